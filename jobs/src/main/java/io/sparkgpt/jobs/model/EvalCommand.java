package io.sparkgpt.jobs.model;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.NetworkCheckpoints;
import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/** {@code sparkgpt eval}: loss and perplexity of a checkpoint on a text, tokenized as one document. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Mean next-token cross-entropy and perplexity of a checkpoint on a text file.")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "URI",
            description = "A checkpoint (step-N) or a run's checkpoint dir (its newest valid checkpoint).")
    String checkpoint;

    @Option(names = "--text", required = true, paramLabel = "FILE", description = "A UTF-8 text file.")
    Path text;

    @Option(names = "--encoding", defaultValue = Tokenizer.GPT2, description = "Default: ${DEFAULT-VALUE}.")
    String encoding;

    @Option(names = "--tokens-out", paramLabel = "FILE",
            description = "Also write the evaluated token ids (whitespace-separated), e.g. for a PyTorch check.")
    Path tokensOut;

    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(text)) {
            throw new UserInputException("text " + text + " is not a file");
        }
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizer.shared(encoding);
        } catch (IllegalArgumentException e) {
            throw new UserInputException("--encoding: " + e.getMessage());
        }
        int[] ids = tokenizer.encode(Files.readString(text));
        var net = NetworkCheckpoints.forInference(CheckpointSource.languageModel(checkpoint, new Configuration()));
        if (tokensOut != null) {
            Files.writeString(tokensOut, IntStream.of(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
        }
        TextEvaluation.Result r = TextEvaluation.evaluate(net, ids);
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("loss", r.loss());
            m.put("perplexity", r.perplexity());
            m.put("tokens", r.tokens());
            m.put("predictions", r.predictions());
            System.out.println(Json.of(m));
        } else {
            System.out.printf("loss %.4f, perplexity %.2f over %,d tokens (%,d predictions)%n",
                    r.loss(), r.perplexity(), r.tokens(), r.predictions());
        }
        return 0;
    }
}
