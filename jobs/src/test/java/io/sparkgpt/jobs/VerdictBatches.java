package io.sparkgpt.jobs;

import io.sparkgpt.tokenization.DatasetFormat;
import io.sparkgpt.tokenization.Tokenizer;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Minibatches of the bundled the-verdict.txt for tests that train a network without Spark. */
public final class VerdictBatches {
    private VerdictBatches() {
    }

    /** The corpus tokenized by the tokenize job into {@code dataset}: windows of 32 tokens, stride 32. */
    public static Path dataset(org.apache.spark.sql.SparkSession spark, Path dataset) throws IOException {
        io.sparkgpt.jobs.tokenize.TokenizeJob.run(spark, io.sparkgpt.jobs.tokenize.TokenizeConfig.defaults(
                java.util.List.of(Path.of("..", "data", "the-verdict.txt").toString()), dataset.toString())
                .withWindows(32, 32));
        return dataset;
    }

    /** The corpus's GPT-2 token ids. */
    public static int[] ids() throws IOException {
        return Tokenizer.shared("r50k_base").encode(Files.readString(Path.of("..", "data", "the-verdict.txt")));
    }

    /** Batch i: 4 windows of 32 tokens, inputs and targets shifted by one. */
    public static DataSet batch(int[] ids, int i) {
        int b = 4, t = 32;
        float[][] x = new float[b][t];
        float[][] y = new float[b][t];
        for (int r = 0; r < b; r++) {
            DatasetFormat.example(ids, ((i * b + r) * t) % (ids.length - t - 1), x[r], y[r]);
        }
        return new DataSet(Nd4j.create(x), Nd4j.create(y));
    }
}
