package io.sparkgpt.jobs.model;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.jobs.checkpoint.CheckpointStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;

/**
 * Resolves a --checkpoint argument: either one checkpoint (a step-N directory) or a checkpoint
 * directory of a training run, of which the newest valid checkpoint is taken (saying which were
 * refused and why).
 */
public final class CheckpointSource {
    private CheckpointSource() {
    }

    public static CheckpointStore.Loaded open(String uri, Configuration conf) throws IOException {
        Path path = new Path(uri);
        if (!path.getFileSystem(conf).exists(path)) {
            throw new UserInputException("checkpoint " + uri + " does not exist: name a checkpoint directory "
                    + "(step-N) or a training run's --checkpoint-dir");
        }
        if (path.getFileSystem(conf).exists(new Path(path, "checksums.json"))
                || path.getName().matches("step-\\d+")) {
            CheckpointStore store = new CheckpointStore(path.getParent().toString(), conf);
            try {
                return new CheckpointStore.Loaded(path, store.load(path));
            } catch (CheckpointStore.CorruptCheckpointException e) {
                throw new UserInputException(e.getMessage());
            }
        }
        CheckpointStore store = new CheckpointStore(uri, conf);
        return store.latestValid(refused -> System.err.println("warning: " + refused + "; trying an older one"))
                .orElseThrow(() -> new UserInputException("no valid checkpoint in " + uri
                        + ": train one first (sparkgpt train) or name a step-N directory"));
    }

    /** A language model's checkpoint (generate, eval): a classifier's is refused, pointing to classify. */
    public static io.sparkgpt.jobs.checkpoint.Checkpoint languageModel(String uri, Configuration conf)
            throws IOException {
        io.sparkgpt.jobs.checkpoint.Checkpoint c = open(uri, conf).checkpoint();
        if (io.sparkgpt.model.GptConfig.fromJson(c.modelConfigJson()).isClassifier()) {
            throw new UserInputException("checkpoint " + uri + " is a classifier's (train-classifier), not a language "
                    + "model's: label texts with sparkgpt classify");
        }
        return c;
    }
}
