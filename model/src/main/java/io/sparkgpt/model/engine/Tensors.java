package io.sparkgpt.model.engine;

import io.sparkgpt.model.GptParams;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The engine's view of a set of named parameter-shaped arrays (the parameters, or their
 * gradients): each name of {@link GptParams#specs} to the array's own memory.
 */
public final class Tensors {

    private final Map<String, Buf> byName;

    private Tensors(Map<String, Buf> byName) {
        this.byName = byName;
    }

    /** Wraps DL4J's parameter (or gradient) views without copying. */
    public static Tensors of(Map<String, INDArray> arrays) {
        Map<String, Buf> m = new LinkedHashMap<>();
        arrays.forEach((name, a) -> m.put(name, Buf.of(a)));
        return new Tensors(m);
    }

    /** Whether these are views of exactly the arrays of {@code arrays} (the same objects, by name). */
    public boolean isOver(Map<String, INDArray> arrays) {
        if (arrays == null || arrays.size() != byName.size()) {
            return false;
        }
        for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
            Buf b = byName.get(e.getKey());
            if (b == null || b.array() != e.getValue()) {
                return false;
            }
        }
        return true;
    }

    public Buf get(String name) {
        Buf b = byName.get(name);
        if (b == null) {
            throw new IllegalStateException("no parameter named " + name + "; have " + byName.keySet());
        }
        return b;
    }

    /** Block l's tensor, e.g. block(3, "attnW") = h3attnW. */
    public Buf block(int l, String name) {
        return get(GptParams.block(l, name));
    }

    public boolean has(String name) {
        return byName.containsKey(name);
    }

    /** Sets every tensor to 0 (gradients, once a step: the backward kernels add into them). */
    public void zero() {
        // Not INDArray.assign(0): each ND4J scalar op allocates a native scalar buffer.
        byName.values().forEach(b -> b.zero(0, b.length()));
    }
}
