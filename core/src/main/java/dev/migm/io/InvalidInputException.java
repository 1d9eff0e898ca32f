package dev.migm.io;

/**
 * Input that migm cannot accept: a file, line, field or argument that is not what was expected.
 * The message names where the problem is and what was expected, in one line, so that the CLI can
 * print it as is (exit status 2).
 */
public class InvalidInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
