package io.sparkgpt.jobs.io;

import io.sparkgpt.jobs.UserInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;

/**
 * Writes an output directory under a hidden temporary name beside its destination and publishes
 * it by rename only when complete, so a reader never mistakes a half-written output for a result.
 *
 * <p>On HDFS and local file systems a directory rename is atomic. On object stores (s3a) it is a
 * copy: readers should also require the output's manifest file, which is written last.
 */
public final class OutputPublisher implements AutoCloseable {
    private final FileSystem fs;
    private final Path destination;
    private final Path temporary;
    private final boolean overwrite;
    private boolean published;

    public OutputPublisher(String destination, boolean overwrite, Configuration conf) {
        this.destination = new Path(destination);
        this.overwrite = overwrite;
        try {
            this.fs = this.destination.getFileSystem(conf);
            checkDestination();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach output " + destination + ": " + e.getMessage(), e);
        }
        // Hidden names (leading '.') are skipped by Hadoop and Spark readers listing the parent.
        this.temporary = new Path(this.destination.getParent(),
                "." + this.destination.getName() + ".tmp-" + UUID.randomUUID());
        probeWritable();
    }

    /** Fails before any work if nothing can be written beside the destination. */
    private void probeWritable() {
        Path probe = new Path(destination.getParent(), "." + destination.getName() + ".probe-" + UUID.randomUUID());
        try {
            fs.create(probe, false).close();
            fs.delete(probe, false);
        } catch (IOException e) {
            throw new UserInputException("cannot write output " + destination + " (" + WriteFailures.storageProblem(e)
                    .orElse(e.getMessage()) + "): choose a location you can write to");
        }
    }

    /** Fails early, before any work, if the destination exists and may not be replaced. */
    private void checkDestination() throws IOException {
        if (fs.exists(destination) && !overwrite) {
            throw new UserInputException("output " + destination + " already exists: choose another "
                    + "path or pass --overwrite to replace it");
        }
    }

    /** Where to write; a fully qualified URI string usable by Spark. */
    public Path temporary() {
        return fs.makeQualified(temporary);
    }

    public FileSystem fileSystem() {
        return fs;
    }

    /** Moves the finished temporary directory to the destination, replacing it if allowed. */
    public Path publish() throws IOException {
        checkDestination();
        Path old = null;
        if (fs.exists(destination)) {
            old = new Path(destination.getParent(), "." + destination.getName() + ".old-" + UUID.randomUUID());
            rename(destination, old);
        }
        rename(temporary, destination);
        published = true;
        if (old != null) {
            fs.delete(old, true);
        }
        return fs.makeQualified(destination);
    }

    private void rename(Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("could not rename " + from + " to " + to);
        }
    }

    /** Removes the temporary directory unless it was published. */
    @Override
    public void close() {
        if (!published) {
            try {
                fs.delete(temporary, true);
            } catch (IOException e) {
                System.err.println("warning: could not remove temporary output " + temporary + ": " + e.getMessage());
            }
        }
    }
}
