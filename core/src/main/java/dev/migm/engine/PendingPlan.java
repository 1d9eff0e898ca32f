package dev.migm.engine;

import dev.migm.gpu.Instance;
import dev.migm.gpu.Layout;

/**
 * A plan handed to the backend and not answered yet: its GPU, the job it is for (null for a plan of
 * its own) and where that job goes, and the layout it was made for and leads to.
 */
record PendingPlan(int gpu, Job job, Instance target, Layout base, Layout result) {
}
