package io.sparkgpt.jobs.model;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.NetworkCheckpoints;
import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.model.Generator;
import io.sparkgpt.tokenization.Tokenizer;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code sparkgpt generate}: continue a prompt with a checkpoint, as the book's generate(). */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt: greedy (temperature 0), or sampled with temperature, top-k and top-p.")
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "URI",
            description = "A checkpoint (step-N) or a run's checkpoint dir (its newest valid checkpoint).")
    String checkpoint;
    @Option(names = "--prompt", required = true, description = "The text to continue.")
    String prompt;
    @Option(names = "--max-new-tokens", defaultValue = "50", description = "Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;
    @Option(names = "--temperature", defaultValue = "0", description = "0 is greedy. Default: ${DEFAULT-VALUE}.")
    double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "Sample among the k likeliest (0: off).")
    int topK;
    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling mass (1: off).")
    double topP;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the sampler. Default: ${DEFAULT-VALUE}.")
    long seed;
    @Option(names = "--encoding", defaultValue = Tokenizer.GPT2, description = "Default: ${DEFAULT-VALUE}.")
    String encoding;
    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (maxNewTokens < 0) {
            throw new UserInputException("--max-new-tokens " + maxNewTokens + " must not be negative");
        }
        Tokenizer tokenizer;
        Generator.Sampling sampling;
        try {
            tokenizer = Tokenizer.shared(encoding);
            sampling = new Generator.Sampling(temperature, topK, topP, seed, tokenizer.eotId());
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
        int[] promptIds = tokenizer.encode(prompt);
        if (promptIds.length == 0) {
            throw new UserInputException("--prompt is empty: give some text to continue");
        }
        var net = NetworkCheckpoints.forInference(CheckpointSource.languageModel(checkpoint, new Configuration()));
        int[] ids = Generator.generate(net, promptIds, maxNewTokens, sampling);
        String completion = tokenizer.decode(Arrays.copyOfRange(ids, promptIds.length, ids.length));
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("prompt", prompt);
            m.put("completion", completion);
            m.put("text", prompt + completion);
            m.put("new_tokens", ids.length - promptIds.length);
            System.out.println(Json.of(m));
        } else {
            System.out.println(prompt + completion);
        }
        return 0;
    }
}
