package io.sparkgpt.jobs.io;

import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.S3AFileSystem;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * S3A that kills its JVM (Runtime.halt, as SIGKILL would) just before the Nth rename out of a
 * hidden temporary output ({@code .NAME.tmp-*}) into a published path: a publish interrupted
 * half-way, at a chosen point. Register with {@code fs.s3a.impl}; N is {@link #HALT_AT_KEY}.
 */
public class HaltingS3AFileSystem extends S3AFileSystem {
    public static final String HALT_AT_KEY = "sparkgpt.test.halt-at-publish-rename";
    private static final AtomicInteger PUBLISH_RENAMES = new AtomicInteger();

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        boolean publishing = src.toString().contains(".tmp-") && !dst.toString().contains(".tmp-");
        if (publishing && PUBLISH_RENAMES.incrementAndGet() == getConf().getInt(HALT_AT_KEY, 0)) {
            System.err.println("HaltingS3AFileSystem: halting before renaming " + src + " to " + dst);
            Runtime.getRuntime().halt(137);
        }
        return super.rename(src, dst);
    }
}
