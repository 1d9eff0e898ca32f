package dev.migm.estimate;

import dev.migm.io.InvalidInputException;

/**
 * A job parameter its estimator cannot use (not a number, out of the range the estimator's model
 * holds for, an unknown choice, an expression that cannot be evaluated). {@link #parameter} is the
 * parameter's name as the job's {@code params} hold it ({@code mem_expr} for the memory expression),
 * so that the door a job came through (a job file, a trace row) can say where it stood; the message
 * says what was expected, in one line.
 */
public final class ParameterException extends InvalidInputException {
    private static final long serialVersionUID = 1L;
    private final String parameter;

    public ParameterException(String parameter, String message) {
        super(parameter + ": " + message);
        this.parameter = parameter;
    }

    /** The parameter's name in the job's {@code params}. */
    public String parameter() {
        return parameter;
    }

    /** What was expected, without the parameter's name. */
    public String problem() {
        return getMessage().substring(parameter.length() + 2);
    }
}
