package io.sparkgpt.jobs.checkpoint;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointStoreTest {
    @TempDir
    java.nio.file.Path tmp;

    private static Checkpoint checkpoint(long step) {
        Random r = new Random(step);
        float[] params = new float[1000];
        float[] updater = new float[2000];
        for (int i = 0; i < params.length; i++) {
            params[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < updater.length; i++) {
            updater[i] = r.nextFloat();
        }
        TrainingState state = new TrainingState(step, step * 512, 1, step % 7, 42, 3.25 + step, step - 1);
        return new Checkpoint("{\"emb_dim\": 64}", params, updater, state);
    }

    private CheckpointStore store() throws IOException {
        return new CheckpointStore(tmp.resolve("ckpt").toUri().toString(), new Configuration());
    }

    @Test
    void aCheckpointComesBackBitIdentical() throws IOException {
        Checkpoint saved = checkpoint(100);
        Path path = store().save(saved);
        assertEquals("step-00000100", path.getName());
        Checkpoint loaded = store().load(path);
        assertArrayEquals(saved.parameters(), loaded.parameters(), "parameters");
        assertArrayEquals(saved.updaterState(), loaded.updaterState(), "optimizer state");
        assertEquals(saved.state(), loaded.state(), "training state");
        assertEquals(saved.modelConfigJson(), loaded.modelConfigJson());
        assertEquals(TrainingState.start(7), roundTrip(TrainingState.start(7)), "NaN best loss survives JSON");
    }

    private TrainingState roundTrip(TrainingState s) throws IOException {
        Checkpoint c = new Checkpoint("{}", new float[1], new float[1], s);
        return store().load(store().save(c)).state();
    }

    @Test
    void aFlippedByteIsRefusedByName() throws IOException {
        Path path = store().save(checkpoint(5));
        java.nio.file.Path model = tmp.resolve("ckpt/step-00000005/model.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(model.toFile(), "rw")) {
            f.seek(2000);
            int b = f.read();
            f.seek(2000);
            f.write(b ^ 0x01);
        }
        IOException e = assertThrows(CheckpointStore.CorruptCheckpointException.class, () -> store().load(path));
        assertTrue(e.getMessage().contains("step-00000005 is corrupt: model.safetensors"), e.getMessage());
    }

    @Test
    void aFlippedByteIsRefusedBySha256WhereTheFileSystemKeepsNoChecksums() throws IOException {
        Path path = store().save(checkpoint(6));
        java.nio.file.Path dir = tmp.resolve("ckpt/step-00000006");
        Files.delete(dir.resolve(".model.safetensors.crc")); // as on S3: no file-system checksums
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
            f.seek(3000);
            int b = f.read();
            f.seek(3000);
            f.write(b ^ 0x80);
        }
        IOException e = assertThrows(CheckpointStore.CorruptCheckpointException.class, () -> store().load(path));
        assertTrue(e.getMessage().contains("step-00000006 is corrupt: model.safetensors has SHA-256"), e.getMessage());
    }

    @Test
    void resumeFallsBackPastTornTruncatedAndIncompleteCheckpointsSayingSo() throws IOException {
        CheckpointStore store = store();
        store.save(checkpoint(10));
        store.save(checkpoint(20));
        store.save(checkpoint(30));
        store.save(checkpoint(40));
        java.nio.file.Path dir = tmp.resolve("ckpt");
        Files.delete(dir.resolve("step-00000040/checksums.json")); // torn: killed before the last file
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("step-00000030/model.safetensors").toFile(), "rw")) {
            f.setLength(f.length() - 100); // truncated
        }
        Files.delete(dir.resolve("step-00000020/state.json")); // a missing part
        List<String> refused = new ArrayList<>();
        CheckpointStore.Loaded loaded = store.latestValid(refused::add).orElseThrow();
        assertEquals(10, loaded.checkpoint().state().step(), "the newest valid checkpoint");
        assertEquals(3, refused.size(), refused.toString());
        assertTrue(refused.get(0).contains("step-00000040 is incomplete"), refused.get(0));
        assertTrue(refused.get(1).contains("step-00000030 is corrupt: model.safetensors"), refused.get(1));
        assertTrue(refused.get(2).contains("step-00000020 is missing state.json"), refused.get(2));
    }

    @Test
    void retentionKeepsTheNewestKAndTheBest() throws IOException {
        CheckpointStore store = store();
        for (long step = 1; step <= 6; step++) {
            store.save(checkpoint(step * 10));
        }
        store.retain(3, Set.of(20L));
        assertEquals(List.of("step-00000060", "step-00000050", "step-00000040", "step-00000020"),
                store.list().stream().map(Path::getName).toList());
    }

    @Test
    void anEmptyDirectoryHasNoCheckpointAndNoTemporaryFilesRemain() throws IOException {
        assertTrue(store().latestValid(m -> { }).isEmpty());
        store().save(checkpoint(1));
        try (var files = Files.list(tmp.resolve("ckpt"))) {
            assertEquals(List.of("step-00000001"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void aFullDiskFailsTheCheckpointNamingItAndLeavesTheEarlierOnesIntact() throws IOException {
        Configuration conf = new Configuration();
        conf.set("fs.quota.impl", io.sparkgpt.jobs.QuotaFileSystem.class.getName());
        conf.setBoolean("fs.quota.impl.disable.cache", true);
        conf.setLong(io.sparkgpt.jobs.QuotaFileSystem.QUOTA_KEY, 20_000); // one checkpoint is ~12.5 KB
        io.sparkgpt.jobs.QuotaFileSystem.reset();
        CheckpointStore store = new CheckpointStore("quota://" + tmp.resolve("ckpt"), conf);
        store.save(checkpoint(1));
        var e = assertThrows(io.sparkgpt.jobs.UserInputException.class, () -> store.save(checkpoint(2)));
        assertTrue(e.getMessage().contains("could not write checkpoint step-00000002 in quota:")
                && e.getMessage().contains("No space left on device") && e.getMessage().contains("--checkpoint-dir"),
                e.getMessage());
        try (var files = Files.list(tmp.resolve("ckpt"))) {
            assertEquals(List.of("step-00000001"), files.map(p -> p.getFileName().toString()).toList(),
                    "the earlier checkpoint and nothing half-written");
        }
        assertEquals(1, store.latestValid(m -> { }).orElseThrow().checkpoint().state().step());
    }
}
