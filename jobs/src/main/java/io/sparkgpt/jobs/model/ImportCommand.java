package io.sparkgpt.jobs.model;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.CheckpointStore;
import io.sparkgpt.jobs.checkpoint.NetworkCheckpoints;
import io.sparkgpt.jobs.checkpoint.Safetensors;
import io.sparkgpt.jobs.checkpoint.TrainingState;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code sparkgpt import}: GPT-2 safetensors weights into a step-0 checkpoint to train or sample from. */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Read GPT-2 safetensors weights (e.g. OpenAI's) into a checkpoint directory.")
public final class ImportCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "FILE", description = "A .safetensors file.")
    String input;

    @Mixin
    ModelOptions model;

    @Option(names = "--output", required = true, paramLabel = "DIR",
            description = "The checkpoint directory to create (it gets step-00000000).")
    String output;

    @Option(names = "--seed", defaultValue = "0", description = "The seed recorded for later training.")
    long seed;

    @Override
    public Integer call() throws Exception {
        Configuration conf = new Configuration();
        Path path = new Path(input);
        FileSystem fs = path.getFileSystem(conf);
        if (!fs.exists(path)) {
            throw new UserInputException("input " + input + " does not exist");
        }
        CheckpointStore store = new CheckpointStore(output, conf);
        if (!store.list().isEmpty()) {
            throw new UserInputException("output " + output + " already holds checkpoints: choose another directory");
        }
        try (FSDataInputStream in = fs.open(path)) {
            Safetensors.Reader reader;
            try {
                reader = new Safetensors.Reader(in, fs.getFileStatus(path).getLen(), input);
            } catch (Safetensors.CorruptFileException e) {
                throw new UserInputException(e.getMessage());
            }
            var net = WeightsExchange.importWeights(reader, model.resolve(), input);
            var saved = store.save(NetworkCheckpoints.capture(net, TrainingState.start(seed)));
            System.out.println("imported " + input + " into " + saved);
        }
        return 0;
    }
}
