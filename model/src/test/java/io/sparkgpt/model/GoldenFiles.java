package io.sparkgpt.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads the text files of src/test/python/make_golden.py: blocks of "name d0 d1 ..." + a line of values. */
final class GoldenFiles {

    private GoldenFiles() {
    }

    static String text(String resource) {
        try (InputStream in = GoldenFiles.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** name -> array (double) for every block of the file. */
    static Map<String, INDArray> arrays(String resource) {
        String[] lines = text(resource).split("\n");
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (int i = 0; i + 1 < lines.length; i += 2) {
            String[] head = lines[i].trim().split(" ");
            long[] shape = Arrays.stream(head, 1, head.length).mapToLong(Long::parseLong).toArray();
            double[] values = Arrays.stream(lines[i + 1].trim().split(" ")).mapToDouble(Double::parseDouble).toArray();
            out.put(head[0], Nd4j.createFromArray(values).reshape(shape).castTo(DataType.DOUBLE));
        }
        return out;
    }

    /** The whitespace-separated GPT-2 token ids of a text resource. */
    static int[] tokens(String resource) {
        return Arrays.stream(text(resource).trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }
}
