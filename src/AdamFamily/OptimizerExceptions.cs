namespace AdamFamily;

/// <summary>A gradient held NaN or ±∞ under <see cref="NonFinitePolicy.Throw"/>; nothing was modified.</summary>
public sealed class NonFiniteGradientException : ArithmeticException
{
    /// <summary>Creates the exception with its message.</summary>
    public NonFiniteGradientException(string message) : base(message) { }
}

/// <summary>Preconditioned weight decay would overshoot (η·σ·max H ≥ 1); nothing was modified.</summary>
public sealed class UnstableDecayException : ArgumentException
{
    /// <summary>Creates the exception with its message.</summary>
    public UnstableDecayException(string message) : base(message) { }
}
