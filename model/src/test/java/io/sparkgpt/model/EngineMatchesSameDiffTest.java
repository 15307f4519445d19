package io.sparkgpt.model;

import io.sparkgpt.model.engine.Buf;
import io.sparkgpt.model.engine.GptEngine;
import io.sparkgpt.model.engine.Tensors;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EngineMatchesSameDiffTest {

    @ParameterizedTest
    @CsvSource({"false, LEARNED, true", "true, SINUSOIDAL, false"})
    void engineEqualsSameDiff(boolean tied, GptConfig.Position position, boolean qkvBias) {
        GptConfig c = new GptConfig(11, 5, 8, 2, 2, 0.0, qkvBias, tied, position);
        ComputationGraph net = GptNetwork.build(c, 12345, new NoOp(), 0.0, DataType.DOUBLE);
        net.params().assign(Nd4j.randn(DataType.DOUBLE, net.params().shape()).muli(0.5));
        int[][] tok = {{3, 7, 3, 1, 2}, {7, 7, 0, 10, 4}, {2, 3, 9, 5, 5}};
        int[][] tgt = {{7, 3, 1, 4, 0}, {7, 0, 10, 6, 1}, {3, 9, 5, 8, 2}};
        INDArray tokens = Nd4j.createFromArray(tok).castTo(DataType.DOUBLE);
        INDArray targets = Nd4j.createFromArray(tgt).castTo(DataType.DOUBLE);
        Map<String, INDArray> params = net.getLayer(GptNetwork.LAYER).paramTable();
        Buf sin = c.position() == GptConfig.Position.SINUSOIDAL
                ? Buf.of(SinusoidalPositions.table(c.contextLength(), c.embDim(), DataType.DOUBLE).dup()) : null;
        GptEngine engine = new GptEngine(c, DataType.DOUBLE, sin);

        INDArray expected = GptNetwork.logits(net, tokens).reshape(15, 11);
        Buf out = Buf.allocate(DataType.DOUBLE, 15 * 11);
        engine.logits(Tensors.of(params), tok, out);
        double maxDiff = 0;
        for (int i = 0; i < 165; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(out.get(i) - expected.getDouble(i)));
        }
        assertEquals(0, maxDiff, 1e-10, "logits");

        net.setInputs(tokens);
        net.setLabels(targets);
        net.computeGradientAndScore();
        Map<String, INDArray> sdGrads = net.gradient().gradientForVariable();
        Map<String, INDArray> mine = new HashMap<>();
        params.forEach((k, v) -> mine.put(k, Nd4j.create(DataType.DOUBLE, v.shape())));
        double loss = engine.lossAndGradients(Tensors.of(params), Tensors.of(mine), tok, tgt, 1, 1.0 / 5);
        assertEquals(net.score(), loss / 15, 1e-10, "loss");
        for (String k : params.keySet()) {
            INDArray a = sdGrads.get(GptNetwork.LAYER + "_" + k);
            double d = a.sub(mine.get(k)).amaxNumber().doubleValue();
            assertEquals(0, d, 1e-10, k);
        }
    }
}
