package io.sparkgpt.tokenization;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DatasetFormatTest {
    @Test
    void gpt2IdsTakeTwoLittleEndianBytesAndLargerVocabulariesFour() {
        assertEquals(2, DatasetFormat.tokenBytes(50257));
        assertEquals(2, DatasetFormat.tokenBytes(65536));
        assertEquals(4, DatasetFormat.tokenBytes(100277));
        int[] ids = {0, 1, 255, 256, 50256, 65535};
        byte[] two = DatasetFormat.encode(ids, 2);
        ByteBuffer le = ByteBuffer.wrap(two).order(ByteOrder.LITTLE_ENDIAN);
        for (int id : ids) {
            assertEquals(id, Short.toUnsignedInt(le.getShort()), "numpy '<u2' reads the same id");
        }
        assertArrayEquals(ids, DatasetFormat.decode(two, 2));
        int[] wide = {0, 65536, 100276, Integer.MAX_VALUE};
        assertEquals(16, DatasetFormat.encode(wide, 4).length);
        assertArrayEquals(wide, DatasetFormat.decode(DatasetFormat.encode(wide, 4), 4));
    }

    @Test
    void anExamplesTargetsAreItsInputsShiftedByOne() {
        int[] ids = {10, 11, 12, 13, 14, 15};
        float[] inputs = new float[3];
        float[] targets = new float[3];
        DatasetFormat.example(ids, 2, inputs, targets);
        assertArrayEquals(new float[] {12, 13, 14}, inputs);
        assertArrayEquals(new float[] {13, 14, 15}, targets);
    }

    @Test
    void theManifestSaysItsVersionFirstAndIsReadBack() throws IOException {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("encoding", "r50k_base");
        byte[] bytes = DatasetFormat.manifestBytes(fields);
        assertEquals("{\n  \"format_version\" : 2,\n  \"encoding\" : \"r50k_base\"\n}",
                new String(bytes, StandardCharsets.UTF_8));
        assertEquals("r50k_base", DatasetFormat.readManifest(new ByteArrayInputStream(bytes), "D")
                .get("encoding").asText());
    }

    @Test
    void aManifestOfAnotherVersionIsRefusedNamingBoth() {
        IllegalArgumentException old = assertThrows(IllegalArgumentException.class, () -> DatasetFormat.readManifest(
                new ByteArrayInputStream("{\"format_version\": 1}".getBytes(StandardCharsets.UTF_8)), "data/old"));
        assertEquals("dataset data/old has format_version 1 but this sparkgpt reads format_version 2: tokenize its "
                + "corpus again with this version's sparkgpt tokenize", old.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> DatasetFormat.readManifest(
                new ByteArrayInputStream("{}".getBytes(StandardCharsets.UTF_8)), "x"));
        assertEquals("dataset x has format_version (none) but this sparkgpt reads format_version 2: tokenize its "
                + "corpus again with this version's sparkgpt tokenize", none.getMessage());
    }
}
