package io.sparkgpt.jobs.tokenize;

import io.sparkgpt.jobs.UserInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Lists a corpus on the driver (metadata only, as Spark's own file sources do) and cuts it into
 * shards: small files are packed whole into shards of about the shard size; a splittable file
 * larger than that is cut into equal byte ranges, one shard each.
 */
public final class CorpusPlanner {
    /** Bytes read from a file's head to tell text from binary, as git does. */
    public static final int SNIFF_BYTES = 8000;

    private CorpusPlanner() {
    }

    public static CorpusPlan plan(TokenizeConfig config, Configuration conf) throws IOException {
        TreeMap<String, Long> files = listFiles(config.inputs(), conf);
        long total = files.values().stream().mapToLong(Long::longValue).sum();
        if (config.format() == InputFormat.TEXT) {
            rejectHugeDocuments(files, config);
        }
        List<String> binary = new ArrayList<>();
        List<Shard> shards = config.format() == InputFormat.PARQUET
                ? List.of() : cut(files, config, conf, binary);
        return new CorpusPlan(List.copyOf(files.keySet()), shards, binary, total);
    }

    /** Expands files, directories (recursively) and globs; hidden files (_x, .x) are skipped. */
    static TreeMap<String, Long> listFiles(List<String> inputs, Configuration conf) throws IOException {
        TreeMap<String, Long> files = new TreeMap<>();
        for (String input : inputs) {
            Path path = new Path(input);
            FileSystem fs = path.getFileSystem(conf);
            FileStatus[] matches = fs.globStatus(path);
            if (matches == null || matches.length == 0) {
                throw new UserInputException("input " + input + " does not exist on " + fs.getUri()
                        + ": check the path (a plain path is on the default file system; use file://, hdfs:// "
                        + "or s3a:// to name another)");
            }
            for (FileStatus match : matches) {
                addFiles(fs, match, files);
            }
        }
        if (files.isEmpty()) {
            throw new UserInputException("input " + String.join(", ", inputs)
                    + " holds no files: the corpus is empty (hidden files starting with _ or . are skipped)");
        }
        return files;
    }

    private static void addFiles(FileSystem fs, FileStatus status, TreeMap<String, Long> files) throws IOException {
        if (!status.isDirectory()) {
            files.put(status.getPath().toString(), status.getLen());
            return;
        }
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(status.getPath(), true);
        while (it.hasNext()) {
            LocatedFileStatus f = it.next();
            if (!isHidden(status.getPath(), f.getPath())) {
                files.put(f.getPath().toString(), f.getLen());
            }
        }
    }

    /** True if any path component below the listed root starts with '_' or '.'. */
    private static boolean isHidden(Path root, Path file) {
        for (Path p = file; p != null && !p.equals(root); p = p.getParent()) {
            String name = p.getName();
            if (name.startsWith("_") || name.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static void rejectHugeDocuments(TreeMap<String, Long> files, TokenizeConfig config) {
        files.forEach((path, length) -> {
            if (length > config.maxDocumentBytes()) {
                throw new UserInputException(String.format("input %s is %.1f MB, larger than --max-document-mb %s "
                        + "for --format text, where each file is one document: use --format lines (each line a "
                        + "document) or raise --max-document-mb (the executor needs ~10x that in memory)",
                        path, length / 1048576.0, config.maxDocumentMb()));
            }
        });
    }

    private static List<Shard> cut(TreeMap<String, Long> files, TokenizeConfig config, Configuration conf,
                                   List<String> binary) throws IOException {
        long shardBytes = config.shardSizeBytes();
        List<Shard> shards = new ArrayList<>();
        List<Shard.FileRange> current = new ArrayList<>();
        long currentBytes = 0;
        for (var file : files.entrySet()) {
            String path = file.getKey();
            long length = file.getValue();
            if (config.format().splittable() && length > shardBytes) {
                if (isBinary(path, conf)) {
                    binary.add(path);
                    continue;
                }
                long pieces = (length + shardBytes - 1) / shardBytes;
                for (long i = 0; i < pieces; i++) {
                    long start = length * i / pieces;
                    long end = length * (i + 1) / pieces;
                    shards.add(new Shard(shards.size(), List.of(new Shard.FileRange(path, start, end, length))));
                }
                continue;
            }
            if (!current.isEmpty() && currentBytes + length > shardBytes) {
                shards.add(new Shard(shards.size(), List.copyOf(current)));
                current.clear();
                currentBytes = 0;
            }
            current.add(new Shard.FileRange(path, 0, length, length));
            currentBytes += length;
        }
        if (!current.isEmpty()) {
            shards.add(new Shard(shards.size(), List.copyOf(current)));
        }
        return shards;
    }

    /** A NUL byte in the first {@value #SNIFF_BYTES} bytes marks a file binary. */
    static boolean isBinary(String path, Configuration conf) throws IOException {
        Path p = new Path(path);
        try (FSDataInputStream in = p.getFileSystem(conf).open(p)) {
            return hasNul(in.readNBytes(SNIFF_BYTES));
        }
    }

    static boolean hasNul(byte[] head) {
        for (byte b : head) {
            if (b == 0) {
                return true;
            }
        }
        return false;
    }
}
