package io.sparkgpt.jobs.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.fs.FSDataInputStream;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (8-byte little-endian header length, a JSON header, then raw
 * little-endian tensor data), for float32 tensors. Written from the spec: no well-kept Java
 * library reads and writes it. Every size in a header is checked against the file before
 * anything is allocated, so a crafted file can neither make the JVM allocate terabytes nor read
 * out of bounds; nothing is ever Java-deserialized.
 */
public final class Safetensors {
    /** The reference implementation refuses headers over 100 MB; so do we. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Safetensors() {
    }

    /** A tensor's entry in the header: shape and byte range in the data section. */
    public record Entry(String name, long[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** A float32 tensor to write. */
    public record Tensor(String name, long[] shape, float[] data) {
    }

    /** Writes tensors in the given order, with string metadata. */
    public static void write(OutputStream out, List<Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            header.set("__metadata__", JSON.valueToTree(metadata));
        }
        long offset = 0;
        for (Tensor t : tensors) {
            long bytes = 4L * t.data().length;
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", "F32");
            e.set("shape", JSON.valueToTree(t.shape()));
            e.set("data_offsets", JSON.valueToTree(new long[] {offset, offset + bytes}));
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // data starts 8-byte aligned, as the spec recommends
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        out.write(length.array());
        out.write(json);
        out.write(" ".repeat(padded - json.length).getBytes(StandardCharsets.US_ASCII));
        for (Tensor t : tensors) {
            writeFloats(out, t.data());
        }
    }

    private static void writeFloats(OutputStream out, float[] data) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            if (!buffer.hasRemaining()) {
                out.write(buffer.array(), 0, buffer.position());
                buffer.clear();
            }
            buffer.putFloat(f);
        }
        out.write(buffer.array(), 0, buffer.position());
    }

    /** A safetensors file opened for reading: its checked header, tensors read on demand. */
    public static final class Reader {
        private final FSDataInputStream in;
        private final String source;
        private final long dataStart;
        private final Map<String, Entry> entries;
        private final Map<String, String> metadata;

        /** Reads and checks the header of a file of {@code fileLength} bytes. */
        public Reader(FSDataInputStream in, long fileLength, String source) throws IOException {
            this.in = in;
            this.source = source;
            if (fileLength < 8) {
                throw corrupt("is " + fileLength + " bytes, shorter than the 8-byte header length");
            }
            byte[] lengthBytes = new byte[8];
            in.readFully(0, lengthBytes);
            long headerLength = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > fileLength - 8) {
                throw corrupt("declares a header of " + headerLength + " bytes (file: " + fileLength + " bytes)");
            }
            byte[] header = new byte[(int) headerLength];
            in.readFully(8, header);
            this.dataStart = 8 + headerLength;
            JsonNode root;
            try {
                root = JSON.readTree(header);
            } catch (IOException e) {
                throw corrupt("has a header that is not JSON: " + e.getMessage());
            }
            if (root == null || !root.isObject()) {
                throw corrupt("has a header that is not a JSON object");
            }
            this.metadata = readMetadata(root.get("__metadata__"));
            this.entries = readEntries(root, fileLength - dataStart);
        }

        public Map<String, Entry> entries() {
            return entries;
        }

        public Map<String, String> metadata() {
            return metadata;
        }

        /** The named tensor's values. */
        public float[] floats(String name) throws IOException {
            Entry e = entries.get(name);
            if (e == null) {
                throw new IOException(source + " has no tensor '" + name + "'");
            }
            float[] out = new float[Math.toIntExact(e.elements())];
            byte[] chunk = new byte[1 << 20];
            long position = dataStart + e.begin();
            int at = 0;
            while (at < out.length) {
                int n = Math.min(chunk.length, (out.length - at) * 4);
                in.readFully(position, chunk, 0, n);
                ByteBuffer.wrap(chunk, 0, n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out, at, n / 4);
                at += n / 4;
                position += n;
            }
            return out;
        }

        private Map<String, String> readMetadata(JsonNode node) throws IOException {
            Map<String, String> m = new LinkedHashMap<>();
            if (node == null) {
                return m;
            }
            if (!node.isObject()) {
                throw corrupt("has __metadata__ that is not an object");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (!f.getValue().isTextual()) {
                    throw corrupt("has a __metadata__ value that is not a string: " + f.getKey());
                }
                m.put(f.getKey(), f.getValue().textValue());
            }
            return m;
        }

        /** Checks every entry: F32, sane shape, offsets inside the data, no overlaps or holes. */
        private Map<String, Entry> readEntries(JsonNode root, long dataLength) throws IOException {
            List<Entry> list = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (!f.getKey().equals("__metadata__")) {
                    list.add(entry(f.getKey(), f.getValue(), dataLength));
                }
            }
            list.sort((a, b) -> Long.compare(a.begin(), b.begin()));
            long expected = 0;
            Map<String, Entry> out = new LinkedHashMap<>();
            for (Entry e : list) {
                if (e.begin() != expected) {
                    throw corrupt("has tensor '" + e.name() + "' at byte " + e.begin() + " where " + expected
                            + " was expected (overlapping or missing data)");
                }
                expected = e.end();
                out.put(e.name(), e);
            }
            if (expected != dataLength) {
                throw corrupt("has " + dataLength + " data bytes but its tensors cover " + expected);
            }
            return out;
        }

        private Entry entry(String name, JsonNode node, long dataLength) throws IOException {
            JsonNode dtype = node.get("dtype");
            JsonNode shape = node.get("shape");
            JsonNode offsets = node.get("data_offsets");
            if (dtype == null || !"F32".equals(dtype.asText())) {
                throw corrupt("has tensor '" + name + "' of dtype " + dtype + ": only F32 is supported");
            }
            if (shape == null || !shape.isArray() || shape.size() > 8 || offsets == null || !offsets.isArray()
                    || offsets.size() != 2) {
                throw corrupt("has tensor '" + name + "' without a valid shape and data_offsets");
            }
            long[] dims = new long[shape.size()];
            long elements = 1;
            for (int i = 0; i < dims.length; i++) {
                dims[i] = shape.get(i).asLong(-1);
                if (!shape.get(i).canConvertToLong() || dims[i] < 0 || dims[i] > dataLength) {
                    throw corrupt("has tensor '" + name + "' with dimension " + shape.get(i));
                }
                elements = Math.multiplyHigh(elements, dims[i]) != 0 ? Long.MAX_VALUE : elements * dims[i];
            }
            long begin = offsets.get(0).asLong(-1);
            long end = offsets.get(1).asLong(-1);
            if (begin < 0 || end < begin || end > dataLength || elements > Integer.MAX_VALUE
                    || elements * 4 != end - begin) {
                throw corrupt("has tensor '" + name + "' with data_offsets [" + begin + ", " + end + "] that don't "
                        + "fit its shape and the " + dataLength + " data bytes");
            }
            return new Entry(name, dims, begin, end);
        }

        private IOException corrupt(String what) {
            return new CorruptFileException(source + " is not a valid safetensors file: it " + what);
        }
    }

    /** A file that fails the format's checks. */
    public static final class CorruptFileException extends IOException {
        public CorruptFileException(String message) {
            super(message);
        }
    }
}
