package io.sparkgpt.jobs.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.io.WriteFailures;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checkpoints in a directory on any Hadoop file system, one subdirectory a step:
 * {@code step-00000100/} holding model.safetensors (tensors "parameters" and "updater_state"),
 * config.json, state.json, and checksums.json (SHA-256 and size of each, written last).
 * A checkpoint is written under a hidden temporary name and renamed into place when complete;
 * one whose checksums file is missing or doesn't match is refused by name, never loaded.
 */
public final class CheckpointStore {
    static final String MODEL = "model.safetensors";
    static final String CONFIG = "config.json";
    static final String STATE = "state.json";
    static final String CHECKSUMS = "checksums.json";
    private static final Pattern STEP_DIR = Pattern.compile("step-(\\d{8,})");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final FileSystem fs;
    private final Path directory;

    public CheckpointStore(String directory, Configuration conf) throws IOException {
        this.directory = new Path(directory);
        this.fs = this.directory.getFileSystem(conf);
    }

    public Path directory() {
        return fs.makeQualified(directory);
    }

    /** Writes a checkpoint and publishes it by rename; returns its directory. */
    public Path save(Checkpoint checkpoint) throws IOException {
        String name = String.format("step-%08d", checkpoint.state().step());
        Path target = new Path(directory, name);
        Path temporary = new Path(directory, "." + name + ".tmp-" + UUID.randomUUID());
        try {
            fs.mkdirs(temporary);
            Map<String, String> sums = new LinkedHashMap<>();
            sums.put(MODEL, write(temporary, MODEL, out -> Safetensors.write(out, List.of(
                    new Safetensors.Tensor("parameters", new long[] {checkpoint.parameters().length},
                            checkpoint.parameters()),
                    new Safetensors.Tensor("updater_state", new long[] {checkpoint.updaterState().length},
                            checkpoint.updaterState())), Map.of("format", "sparkgpt-checkpoint-1"))));
            sums.put(CONFIG, write(temporary, CONFIG,
                    out -> out.write(checkpoint.modelConfigJson().getBytes(StandardCharsets.UTF_8))));
            sums.put(STATE, write(temporary, STATE, out -> out.write(JSON.writeValueAsBytes(checkpoint.state()))));
            write(temporary, CHECKSUMS, out -> out.write(JSON.writeValueAsBytes(sums)));
            if (fs.exists(target)) {
                fs.delete(target, true); // a rewrite of the same step (e.g. after a crash between save and retain)
            }
            if (!fs.rename(temporary, target)) {
                throw new IOException("could not publish checkpoint " + temporary + " as " + target);
            }
            return fs.makeQualified(target);
        } catch (IOException e) {
            Optional<String> problem = WriteFailures.storageProblem(e);
            if (problem.isPresent()) {
                throw new UserInputException("could not write checkpoint " + name + " in " + directory() + " ("
                        + problem.get() + "): free space or choose another --checkpoint-dir; the checkpoints "
                        + "already there are intact");
            }
            throw e;
        } finally {
            if (fs.exists(temporary)) {
                fs.delete(temporary, true);
            }
        }
    }

    /**
     * Deletes checkpoints a dead run left half-written (hidden temporaries); returns their names.
     * Only for the one driver of a run, before it writes: it may not race another writer.
     */
    public List<String> removeTornWrites() throws IOException {
        List<String> removed = new ArrayList<>();
        if (!fs.exists(directory)) {
            return removed;
        }
        for (FileStatus s : fs.listStatus(directory)) {
            String name = s.getPath().getName();
            if (name.startsWith(".step-") && name.contains(".tmp-")) {
                fs.delete(s.getPath(), true);
                removed.add(name);
            }
        }
        return removed;
    }

    /** The steps of the published checkpoints, newest first (valid or not). */
    public List<Path> list() throws IOException {
        List<Path> out = new ArrayList<>();
        if (!fs.exists(directory)) {
            return out;
        }
        for (FileStatus s : fs.listStatus(directory)) {
            if (s.isDirectory() && STEP_DIR.matcher(s.getPath().getName()).matches()) {
                out.add(s.getPath());
            }
        }
        out.sort(Comparator.comparingLong(CheckpointStore::stepOf).reversed());
        return out;
    }

    static long stepOf(Path checkpoint) {
        Matcher m = STEP_DIR.matcher(checkpoint.getName());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** The newest checkpoint that verifies; each refused one is reported to {@code refused}. */
    public Optional<Loaded> latestValid(Consumer<String> refused) throws IOException {
        for (Path p : list()) {
            try {
                return Optional.of(new Loaded(fs.makeQualified(p), load(p)));
            } catch (CorruptCheckpointException e) {
                refused.accept(e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** A checkpoint read back, with where it came from. */
    public record Loaded(Path path, Checkpoint checkpoint) {
    }

    /** Reads and verifies a checkpoint directory. */
    public Checkpoint load(Path checkpoint) throws IOException {
        Map<String, String> sums = readChecksums(checkpoint);
        for (String file : List.of(MODEL, CONFIG, STATE)) {
            verify(checkpoint, file, sums.get(file));
        }
        Path model = new Path(checkpoint, MODEL);
        try (FSDataInputStream in = fs.open(model)) {
            Safetensors.Reader reader = new Safetensors.Reader(in, fs.getFileStatus(model).getLen(), model.toString());
            String config = readString(new Path(checkpoint, CONFIG));
            TrainingState state = JSON.readValue(readString(new Path(checkpoint, STATE)), TrainingState.class);
            return new Checkpoint(config, reader.floats("parameters"), reader.floats("updater_state"), state);
        }
    }

    private Map<String, String> readChecksums(Path checkpoint) throws IOException {
        Path file = new Path(checkpoint, CHECKSUMS);
        if (!fs.exists(file)) {
            throw new CorruptCheckpointException("checkpoint " + checkpoint + " is incomplete: it has no " + CHECKSUMS);
        }
        try {
            @SuppressWarnings("unchecked")
            Map<String, String> sums = JSON.readValue(readString(file), Map.class);
            return sums;
        } catch (IOException e) {
            throw new CorruptCheckpointException("checkpoint " + checkpoint + " has an unreadable " + CHECKSUMS);
        }
    }

    private void verify(Path checkpoint, String file, String expected) throws IOException {
        Path path = new Path(checkpoint, file);
        if (expected == null || !fs.exists(path)) {
            throw new CorruptCheckpointException("checkpoint " + checkpoint + " is missing " + file);
        }
        String actual;
        try (InputStream in = fs.open(path)) {
            MessageDigest digest = sha256();
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            actual = HexFormat.of().formatHex(digest.digest());
        } catch (ChecksumException e) {
            // File systems with their own checksums (local, HDFS) may notice first.
            throw new CorruptCheckpointException("checkpoint " + checkpoint + " is corrupt: " + file
                    + " fails the file system's checksum (" + e.getMessage() + ")");
        }
        if (!actual.equals(expected)) {
            throw new CorruptCheckpointException("checkpoint " + checkpoint + " is corrupt: " + file
                    + " has SHA-256 " + actual + ", expected " + expected);
        }
    }

    /** Deletes all checkpoints but the newest {@code keepLast} and those in {@code keep}. */
    public List<Path> retain(int keepLast, Set<Long> keep) throws IOException {
        List<Path> deleted = new ArrayList<>();
        List<Path> all = list();
        for (int i = keepLast; i < all.size(); i++) {
            if (!keep.contains(stepOf(all.get(i)))) {
                fs.delete(all.get(i), true);
                deleted.add(all.get(i));
            }
        }
        return deleted;
    }

    private interface Writer {
        void write(java.io.OutputStream out) throws IOException;
    }

    /** Writes one file and returns its SHA-256. */
    private String write(Path dir, String name, Writer writer) throws IOException {
        MessageDigest digest = sha256();
        try (FSDataOutputStream raw = fs.create(new Path(dir, name), false);
             DigestOutputStream out = new DigestOutputStream(new java.io.BufferedOutputStream(raw, 1 << 20), digest)) {
            writer.write(out);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private String readString(Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A checkpoint that is incomplete or fails its checksums. */
    public static final class CorruptCheckpointException extends IOException {
        public CorruptCheckpointException(String message) {
            super(message);
        }
    }
}
