package dev.migm.engine;

/**
 * What the engine's rooms ({@link WaitingQueue}, {@link NodeGpus}, {@link SchedulingRound}) ask of
 * the engine: to journal a record and apply it, and to move a job, which only the engine does (it
 * owns the jobs and tells the listeners). The engine is one (it extends this class, whose methods stay
 * package-private); the rooms see nothing else of it, so none of them depends on the engine's file.
 */
abstract class EngineMoves {
    /** Where seams and alarms post events (it changes once, when a live engine is confined to its loop). */
    abstract EventSink sink();

    /** Journals a record, then moves its job (if it is about one) through {@link JobTransitions}. */
    abstract void record(EngineRecord r);

    /** The job of this id, or null. */
    abstract Job job(String id);

    /** Takes a waiting job out of the queue for a placement or an end. */
    abstract Job takeWaiting(QueuedJob queued);

    /** Launches the job's waiting attempt on the slot (its instance exists and holds nobody else). */
    abstract void launch(Job job, NodeGpu gpu, Slot slot);

    /** Puts a job whose placement fell through back in the queue, for the same attempt and progress. */
    abstract void requeue(Job job);

    /** Applies an attempt's exit (an executor's answer, or one the engine concludes, as for a lost GPU). */
    abstract void exited(EngineEvent.AttemptExited exit);

    /** Ends a job whose cancel was asked for while it was placed. */
    abstract void cancelled(Job job, String reason);

    /** Ends a job as failed, with the reason. */
    abstract void fail(Job job, String reason);

    /**
     * Whether the run's input is one batch and it is all in ({@link EngineEvent.InputClosed} naming a
     * last submit no later than the first): no job will come that a waiting one must not be delayed for.
     */
    abstract boolean batchAllIn();

    /** Whether the engine launches nothing new ({@link Engine#stopLaunching}). */
    abstract boolean stopping();

    /** Expected time from launch to exit of the job's next attempt on a slot of {@code sms} SMs of the GPU. */
    abstract double expectedRuntime(QueuedJob job, NodeGpu gpu, int sms);

    /** Stops the job's running attempt at its checkpoint to give its slices to {@code forJobId} (journaled with why). */
    abstract void preempt(Job job, String forJobId, String why);

    /** Asks for a round at {@code atS} (a policy's time-based decision). */
    abstract void wakeAt(double atS);
}
