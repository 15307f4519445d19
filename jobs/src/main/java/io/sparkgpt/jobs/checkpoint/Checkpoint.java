package io.sparkgpt.jobs.checkpoint;

/**
 * One checkpoint: the model's config (JSON, as the model module writes it), its parameters and
 * its optimizer state (flat float32 vectors, in the network's own order), and the training state.
 */
public record Checkpoint(String modelConfigJson, float[] parameters, float[] updaterState, TrainingState state) {
}
