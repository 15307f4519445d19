package io.sparkgpt.jobs.io;

import io.sparkgpt.jobs.UserInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Writes an output directory under a hidden temporary name beside its destination and publishes
 * it by rename only when complete, so a reader never mistakes a half-written output for a result.
 *
 * <p>On HDFS and local file systems a directory rename is atomic: the output appears whole or not
 * at all. On object stores (s3a) a directory rename is a copy, file by file, that a crash can leave
 * half done, so an output directory with a manifest is published part by part instead: the old
 * output's manifest is deleted first, the manifest is moved last, and readers require it (a
 * single object appears whole). See {@link #atomicDirectoryRename}.
 */
public final class OutputPublisher implements AutoCloseable {
    private final FileSystem fs;
    private final Path destination;
    private final Path temporary;
    private final boolean overwrite;
    private final String manifest;
    private boolean published;

    /** An output written as one file. */
    public OutputPublisher(String destination, boolean overwrite, Configuration conf) {
        this(destination, overwrite, conf, null);
    }

    /** An output directory that readers trust only with its {@code manifest} file (its name inside the directory). */
    public OutputPublisher(String destination, boolean overwrite, Configuration conf, String manifest) {
        this.destination = new Path(destination);
        this.overwrite = overwrite;
        this.manifest = manifest;
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

    /**
     * Whether renaming a directory is one atomic step. Hadoop's local file systems and HDFS rename
     * atomically; S3A (and other object stores' connectors) copy file by file.
     */
    private static boolean atomicDirectoryRename(FileSystem fs) {
        return fs instanceof RawLocalFileSystem || Set.of("file", "hdfs", "viewfs").contains(fs.getScheme());
    }

    /** Moves the finished temporary output to the destination, replacing it if allowed. */
    public Path publish() throws IOException {
        checkDestination();
        if (manifest != null && !atomicDirectoryRename(fs)) {
            publishManifestLast();
            return fs.makeQualified(destination);
        }
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

    /**
     * For stores without atomic directory renames: a crash at any point leaves either the whole
     * output or one without its manifest, which readers refuse. The old output's manifest goes
     * first, so a half-replaced output is never taken for the old one either.
     */
    private void publishManifestLast() throws IOException {
        if (fs.exists(destination)) {
            fs.delete(new Path(destination, manifest), false);
            fs.delete(destination, true);
        }
        fs.mkdirs(destination);
        // Data first, then markers such as _SUCCESS (other tools trust those), the manifest last.
        List<Path> parts = new ArrayList<>();
        for (FileStatus part : fs.listStatus(temporary)) {
            if (!part.getPath().getName().equals(manifest)) {
                parts.add(part.getPath());
            }
        }
        parts.sort(Comparator.comparing((Path p) -> p.getName().startsWith("_")).thenComparing(Path::getName));
        for (Path part : parts) {
            rename(part, new Path(destination, part.getName()));
        }
        rename(new Path(temporary, manifest), new Path(destination, manifest));
        published = true;
        fs.delete(temporary, true);
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
