package io.sparkgpt.jobs.io;

import java.util.List;
import java.util.Optional;

/**
 * Recognizes a write that failed for want of space or permission (a local disk, an HDFS quota, a
 * read-only mount), wherever it happened: in the driver or, reported as text by Spark, in a task.
 */
public final class WriteFailures {
    private static final List<String> STORAGE_PROBLEMS = List.of("No space left on device", "QuotaExceeded",
            "quota", "Permission denied", "Read-only file system", "AccessDenied", "Not a directory",
            "ParentNotDirectory");

    private WriteFailures() {
    }

    /** The first line of the cause chain that names a storage problem, if any does. */
    public static Optional<String> storageProblem(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String text = t.getClass().getSimpleName() + ": " + t.getMessage();
            for (String problem : STORAGE_PROBLEMS) {
                int at = text.indexOf(problem);
                if (at >= 0) {
                    int end = text.indexOf('\n', at);
                    return Optional.of(text.substring(Math.max(0, text.lastIndexOf(':', at) + 1), end < 0
                            ? text.length() : end).trim());
                }
            }
        }
        return Optional.empty();
    }
}
