package io.sparkgpt.jobs;

import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local file system under the scheme {@code quota://}, with a byte quota shared by every
 * file written through it: past it, writes fail as on a full disk (HDFS's space quota fails the
 * same way). Register with {@code fs.quota.impl}; set the quota with {@link #QUOTA_KEY}.
 */
public class QuotaFileSystem extends RawLocalFileSystem {
    public static final String QUOTA_KEY = "fs.quota.bytes";
    private static final AtomicLong WRITTEN = new AtomicLong();

    public static void reset() {
        WRITTEN.set(0);
    }

    @Override
    public URI getUri() {
        return URI.create("quota:///");
    }

    @Override
    public String getScheme() {
        return "quota";
    }

    // Every create and append of the local file system opens its file through these two.
    @Override
    protected OutputStream createOutputStream(Path f, boolean append) throws IOException {
        return limited(super.createOutputStream(f, append));
    }

    @Override
    protected OutputStream createOutputStreamWithMode(Path f, boolean append, FsPermission permission)
            throws IOException {
        return limited(super.createOutputStreamWithMode(f, append, permission));
    }

    private OutputStream limited(OutputStream out) {
        long quota = getConf().getLong(QUOTA_KEY, Long.MAX_VALUE);
        return new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                charge(1, quota);
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                charge(len, quota);
                out.write(b, off, len);
            }
        };
    }

    private static void charge(long bytes, long quota) throws IOException {
        if (WRITTEN.addAndGet(bytes) > quota) {
            throw new IOException("No space left on device");
        }
    }
}
