package io.sparkgpt.jobs.bench;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.jobs.cli.Sessions;
import io.sparkgpt.jobs.train.DatasetInfo;
import io.sparkgpt.tokenization.DatasetFormat;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sparkgpt bench classifier-baseline}: the baselines a classifier's accuracy is read
 * against, on the very train/val split of a classification dataset: each example's stored ids
 * decoded back to its (truncated) text, then the majority class and a bag-of-words multinomial
 * Naive Bayes. The splits are collected to the driver (labeled corpora of thousands of texts).
 */
@Command(name = "classifier-baseline", mixinStandardHelpOptions = true,
        description = "Majority-class and bag-of-words Naive Bayes accuracy on a classification dataset's split.")
public final class ClassifierBaseline implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "DIR", description = "A dataset of tokenize --label-field.")
    String data;
    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        SparkSession spark = Sessions.start("bench classifier-baseline");
        try {
            Map<String, Object> r = run(spark, data);
            System.out.println(json ? Json.of(r) : r.toString());
        } finally {
            Sessions.stop(spark);
        }
        return 0;
    }

    /** A split's texts and labels. */
    record Split(List<String> texts, int[] labels) {
    }

    public static Map<String, Object> run(SparkSession spark, String data) throws IOException {
        DatasetInfo d = DatasetInfo.read(data, spark.sparkContext().hadoopConfiguration());
        if (!d.classification()) {
            throw new UserInputException("--data " + data + " is not a classification dataset: make one with "
                    + "sparkgpt tokenize --label-field");
        }
        Split train = split(spark, d, DatasetFormat.TRAIN);
        Split val = split(spark, d, DatasetFormat.VAL);
        NaiveBayes bayes = new NaiveBayes(train.texts(), train.labels(), d.labels().size());
        long right = 0;
        for (int i = 0; i < val.texts().size(); i++) {
            right += bayes.predict(val.texts().get(i)) == val.labels()[i] ? 1 : 0;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("data", d.directory());
        out.put("labels", d.labels());
        out.put("train_examples", train.texts().size());
        out.put("val_examples", val.texts().size());
        out.put("majority_class_val_accuracy", majority(train, val, d.labels().size()));
        out.put("bow_naive_bayes_val_accuracy", (double) right / Math.max(1, val.texts().size()));
        return out;
    }

    private static Split split(SparkSession spark, DatasetInfo d, String split) {
        Tokenizer tokenizer = Tokenizer.shared(d.encoding());
        List<String> texts = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Row r : spark.read().parquet(d.directory() + "/" + split).orderBy(DatasetFormat.SHARD,
                DatasetFormat.OFFSET).collectAsList()) {
            int[] ids = DatasetFormat.decode(r.getAs(DatasetFormat.TOKENS), d.tokenBytes());
            texts.add(tokenizer.decode(Arrays.copyOf(ids, (int) r.getAs(DatasetFormat.LENGTH))));
            labels.add(r.getAs(DatasetFormat.LABEL));
        }
        return new Split(texts, labels.stream().mapToInt(Integer::intValue).toArray());
    }

    /** The accuracy of always answering the training split's most frequent label. */
    private static double majority(Split train, Split val, int classes) {
        long[] counts = new long[classes];
        Arrays.stream(train.labels()).forEach(l -> counts[l]++);
        int top = 0;
        for (int c = 1; c < classes; c++) {
            top = counts[c] > counts[top] ? c : top;
        }
        int label = top;
        return (double) Arrays.stream(val.labels()).filter(l -> l == label).count() / Math.max(1, val.labels().length);
    }
}
