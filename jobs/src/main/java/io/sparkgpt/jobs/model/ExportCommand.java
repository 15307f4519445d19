package io.sparkgpt.jobs.model;

import io.sparkgpt.jobs.checkpoint.NetworkCheckpoints;
import io.sparkgpt.jobs.io.OutputPublisher;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedOutputStream;
import java.util.concurrent.Callable;

/** {@code sparkgpt export}: a checkpoint's weights as GPT-2 safetensors (Hugging Face names). */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a checkpoint's weights as safetensors with Hugging Face GPT-2 tensor names.")
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "URI",
            description = "A checkpoint (step-N) or a run's checkpoint dir (its newest valid checkpoint).")
    String checkpoint;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "The .safetensors file to write.")
    String output;

    @Option(names = "--overwrite", description = "Replace an existing output file.")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        Configuration conf = new Configuration();
        var loaded = CheckpointSource.open(checkpoint, conf);
        var net = NetworkCheckpoints.forInference(loaded.checkpoint());
        try (OutputPublisher publisher = new OutputPublisher(output, overwrite, conf)) {
            try (FSDataOutputStream raw = publisher.fileSystem().create(publisher.temporary(), false);
                 BufferedOutputStream out = new BufferedOutputStream(raw, 1 << 20)) {
                WeightsExchange.export(net, out);
            }
            System.out.println("exported " + loaded.path() + " to " + publisher.publish());
        }
        return 0;
    }
}
