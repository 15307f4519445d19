package io.sparkgpt.jobs.model;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.model.GptConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** How a command names a model config: a preset or a JSON file with the book's keys. */
public final class ModelOptions {
    @Option(names = "--preset", paramLabel = "NAME",
            description = "gpt2-small, gpt2-medium, gpt2-large, gpt2-xl, tiny or mini (files in conf/presets).")
    String preset;

    @Option(names = "--config", paramLabel = "FILE", description = "A model config JSON file (see conf/presets).")
    Path config;

    /** The named config, or null if neither option was given. */
    public GptConfig resolve() {
        if (preset != null && config != null) {
            throw new UserInputException("give --preset or --config, not both");
        }
        try {
            return preset != null ? GptConfig.preset(preset) : config != null ? GptConfig.fromJson(config) : null;
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
    }
}
