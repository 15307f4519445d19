package io.sparkgpt.jobs.checkpoint;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {
    @TempDir
    java.nio.file.Path tmp;

    private Safetensors.Reader open(byte[] file) throws IOException {
        java.nio.file.Path p = tmp.resolve("t" + System.nanoTime() + ".safetensors");
        Files.write(p, file);
        FileSystem fs = FileSystem.getLocal(new Configuration());
        FSDataInputStream in = fs.open(new Path(p.toUri()));
        return new Safetensors.Reader(in, file.length, p.toString());
    }

    private static byte[] file(String header, int dataBytes) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        return b.array();
    }

    @Test
    void tensorsAndMetadataRoundTripExactly() throws IOException {
        float[] a = {1.5f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, 3.14159f, -2.5e-8f};
        float[] b = {42f};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Safetensors.write(out, List.of(new Safetensors.Tensor("h.0.w", new long[] {2, 3}, a),
                new Safetensors.Tensor("bias", new long[] {1}, b)), Map.of("format", "pt"));
        Safetensors.Reader r = open(out.toByteArray());
        assertArrayEquals(a, r.floats("h.0.w"), "bit-identical floats");
        assertArrayEquals(b, r.floats("bias"));
        assertArrayEquals(new long[] {2, 3}, r.entries().get("h.0.w").shape());
        assertEquals(Map.of("format", "pt"), r.metadata());
        long headerLength = ByteBuffer.wrap(out.toByteArray(), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8, "data starts 8-byte aligned");
    }

    @Test
    void aHeaderLengthOfTerabytesIsRefusedBeforeAllocating() {
        byte[] f = new byte[64];
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 42);
        IOException e = assertThrows(Safetensors.CorruptFileException.class, () -> open(f));
        assertTrue(e.getMessage().contains("declares a header of 4398046511104 bytes"), e.getMessage());
        byte[] negative = new byte[64];
        ByteBuffer.wrap(negative).order(ByteOrder.LITTLE_ENDIAN).putLong(-8);
        assertThrows(Safetensors.CorruptFileException.class, () -> open(negative));
    }

    @Test
    void shapesAndOffsetsThatDontFitTheFileAreRefused() {
        String[] crafted = {
            "{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}",
            "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800000000000]}}",
            "{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
            "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            "{\"x\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
            "{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}",
            "not json at all",
        };
        for (String header : crafted) {
            Safetensors.CorruptFileException e = assertThrows(Safetensors.CorruptFileException.class,
                    () -> open(file(header, 8)), header);
            assertTrue(e.getMessage().contains("is not a valid safetensors file"), e.getMessage());
        }
    }
}
