package io.sparkgpt.jobs.train;

import io.sparkgpt.jobs.UserInputException;
import io.sparkgpt.model.Trainable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sparkgpt train-classifier}: train's options, model, schedule and synchronization, on a
 * classification dataset (tokenize --label-field): the decoder with a num_classes head on each
 * text's last real token, from scratch or fine-tuned from a language model's checkpoint.
 */
@Command(name = "train-classifier", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a text classifier on Spark (the book's chapter 6): a num_classes head on the last real "
                + "token, from scratch (--preset/--config) or fine-tuned --from a checkpoint; evaluations report "
                + "loss and accuracy, the end writes a confusion matrix (JSON and PNG).")
public final class TrainClassifierCommand extends TrainCommand {
    @Option(names = "--from", paramLabel = "CHECKPOINT", description = "A language model's checkpoint (step-N, or "
            + "a run's directory: its newest valid one) whose weights start the classifier; its head is replaced.")
    String from;
    @Option(names = "--trainable", defaultValue = "all", paramLabel = "WHICH", description = "all, last-block (the "
            + "last transformer block, final norm and head, as the book fine-tunes) or head. Default: ${DEFAULT-VALUE}.")
    String trainable;

    @Override
    public Integer call() throws Exception {
        Trainable which;
        try {
            which = Trainable.of(trainable);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
        return run("train-classifier", new TrainConfig.Classifier(from, which));
    }
}
