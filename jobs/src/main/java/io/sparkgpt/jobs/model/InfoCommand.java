package io.sparkgpt.jobs.model;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.cli.Json;
import io.sparkgpt.model.GptConfig;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code sparkgpt info}: a model's parameter count and fp32 size, as the book prints them. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Parameter count and fp32 size of a preset, a config file or a checkpoint.")
public final class InfoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--checkpoint", paramLabel = "URI", description = "A checkpoint (step-N) or a run's checkpoint dir.")
    String checkpoint;

    @Option(names = "--tie-weights", description = "Share the token embedding with the output head.")
    boolean tieWeights;

    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        GptConfig config = model.resolve();
        if (checkpoint != null) {
            if (config != null) {
                throw new UserInputException("give --checkpoint or a model (--preset, --config), not both");
            }
            config = GptConfig.fromJson(CheckpointSource.open(checkpoint, new Configuration()).checkpoint()
                    .modelConfigJson());
        }
        if (config == null) {
            throw new UserInputException("name a model: --preset NAME, --config FILE or --checkpoint URI");
        }
        if (tieWeights) {
            config = config.withTieWeights(true);
        }
        double mb = Math.round(config.fp32Megabytes() * 100) / 100.0;
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("parameters", config.parameterCount());
            m.put("fp32_mb", mb);
            m.put("config", Json.parse(config.toJson()));
            System.out.println(Json.of(m));
        } else {
            System.out.printf("Total number of parameters: %,d%nTotal size of the model: %.2f MB (fp32)%n%s%n",
                    config.parameterCount(), mb, config.toJson());
        }
        return 0;
    }
}
