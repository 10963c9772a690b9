namespace AdamFamily;


/// <summary>What a step does when a gradient holds NaN or ±∞.</summary>
public enum NonFinitePolicy
{
    /// <summary>Throw a <see cref="NonFiniteGradientException"/> naming the parameter, before anything is modified.</summary>
    Throw,
    /// <summary>Skip the whole step (no parameter or state changes) and count it in <see cref="AfmdwOptimizer.SkippedSteps"/>.</summary>
    Skip,
    /// <summary>Apply the step anyway, as PyTorch does; no check is made.</summary>
    Propagate,
}

/// <summary>Which execution path a step uses.</summary>
public enum ExecutionPath
{
    /// <summary>The fused CPU kernel where it applies (contiguous float32/float64 CPU tensors), tensor ops elsewhere.</summary>
    Auto,
    /// <summary>Always the tensor-op reference path.</summary>
    TensorOps,
}
