using System.Numerics;
using AdamFamily.Execution;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Rules;

/// <summary>
/// One second-moment estimator, written once for both execution paths: a SIMD block update for the
/// fused CPU kernel and an in-place tensor update for the reference path. A new estimator is one
/// struct implementing this interface plus one line in <see cref="SecondMoments"/>.
/// </summary>
public interface ISecondMomentRule
{
    /// <summary>Whether the rule keeps a running maximum buffer (AMSGrad).</summary>
    static abstract bool KeepsMax { get; }

    /// <summary>Whether ε enters v itself (AdaBelief, Adamax): the kernel adds <see cref="StepCoefficients.VEps"/> = ε.</summary>
    static virtual bool EpsInV => false;

    /// <summary>The preconditioner the estimator's value calls for, given where ε goes (most: by <paramref name="epsMode"/>).</summary>
    static virtual Preconditioner PreconditionerFor(EpsMode epsMode) => epsMode == EpsMode.Inside ? Preconditioner.EpsInside : Preconditioner.EpsOutside;

    /// <summary>Updates v (and vMax) for one SIMD block; returns the value the preconditioner reads.</summary>
    static abstract Vector<T> Update<T>(ref Vector<T> v, ref Vector<T> vMax, Vector<T> g, Vector<T> m, in VectorCoefficients<T> c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>;

    /// <summary>Updates v (and vMax) in place; returns the tensor the preconditioner reads (one of the state tensors).</summary>
    static abstract Tensor Update(Tensor v, Tensor? vMax, Tensor g, Tensor m, ScalarCoefficients c);
}

/// <summary>v ← β₂v + (1 − β₂)g².</summary>
public readonly struct AdamMoment : ISecondMomentRule
{
    /// <inheritdoc/>
    public static bool KeepsMax => false;
    /// <inheritdoc/>
    public static Vector<T> Update<T>(ref Vector<T> v, ref Vector<T> vMax, Vector<T> g, Vector<T> m, in VectorCoefficients<T> c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => v = c.VDecay * v + c.VGain * (g * g);
    /// <inheritdoc/>
    public static Tensor Update(Tensor v, Tensor? vMax, Tensor g, Tensor m, ScalarCoefficients c)
        => v.mul_(c.VDecay).addcmul_(g, g, c.VGain);
}

/// <summary>Adam's v, and H reads v_max ← max(v_max, v).</summary>
public readonly struct AmsGradMoment : ISecondMomentRule
{
    /// <inheritdoc/>
    public static bool KeepsMax => true;
    /// <inheritdoc/>
    public static Vector<T> Update<T>(ref Vector<T> v, ref Vector<T> vMax, Vector<T> g, Vector<T> m, in VectorCoefficients<T> c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        v = c.VDecay * v + c.VGain * (g * g);
        return vMax = Vector.Max(vMax, v);
    }
    /// <inheritdoc/>
    public static Tensor Update(Tensor v, Tensor? vMax, Tensor g, Tensor m, ScalarCoefficients c)
    {
        v.mul_(c.VDecay).addcmul_(g, g, c.VGain);
        return vMax!.clamp_(min: v, max: null); // in-place max(vMax, v)
    }
}

/// <summary>Yogi: v ← v − (1 − β₂)·sign(v − g²)·g².</summary>
public readonly struct YogiMoment : ISecondMomentRule
{
    /// <inheritdoc/>
    public static bool KeepsMax => false;
    /// <inheritdoc/>
    public static Vector<T> Update<T>(ref Vector<T> v, ref Vector<T> vMax, Vector<T> g, Vector<T> m, in VectorCoefficients<T> c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var g2 = g * g;
        var diff = v - g2;
        var sign = Vector.ConditionalSelect(Vector.GreaterThan(diff, Vector<T>.Zero), Vector<T>.One,
                   Vector.ConditionalSelect(Vector.LessThan(diff, Vector<T>.Zero), -Vector<T>.One, Vector<T>.Zero));
        return v = v - c.VGain * sign * g2;
    }
    /// <inheritdoc/>
    public static Tensor Update(Tensor v, Tensor? vMax, Tensor g, Tensor m, ScalarCoefficients c)
    {
        using var g2 = g.square();
        using var sign = v.sub(g2).sign_();
        return v.addcmul_(sign, g2, c.NegVGain);
    }
}

/// <summary>AdaBelief: v ← β₂v + (1 − β₂)(g − m)² + ε, with m the already-updated first moment.</summary>
public readonly struct AdaBeliefMoment : ISecondMomentRule
{
    /// <inheritdoc/>
    public static bool KeepsMax => false;
    /// <inheritdoc/>
    public static bool EpsInV => true;
    /// <inheritdoc/>
    public static Vector<T> Update<T>(ref Vector<T> v, ref Vector<T> vMax, Vector<T> g, Vector<T> m, in VectorCoefficients<T> c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var s = g - m;
        return v = c.VDecay * v + c.VGain * (s * s) + c.VEps;
    }
    /// <inheritdoc/>
    public static Tensor Update(Tensor v, Tensor? vMax, Tensor g, Tensor m, ScalarCoefficients c)
    {
        using var s = g.sub(m);
        return v.mul_(c.VDecay).addcmul_(s, s, c.VGain).add_(c.VEps);
    }
}

/// <summary>Adamax's infinity norm: u ← max(β₂u, |g| + ε).</summary>
public readonly struct InfinityNormMoment : ISecondMomentRule
{
    /// <inheritdoc/>
    public static bool KeepsMax => false;
    /// <inheritdoc/>
    public static bool EpsInV => true;
    /// <summary>u already holds |g| + ε: H = 1/u whatever the ε placement.</summary>
    public static Preconditioner PreconditionerFor(EpsMode epsMode) => Preconditioner.InverseNorm;
    /// <inheritdoc/>
    public static Vector<T> Update<T>(ref Vector<T> v, ref Vector<T> vMax, Vector<T> g, Vector<T> m, in VectorCoefficients<T> c)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => v = Vector.Max(c.VDecay * v, Vector.Abs(g) + c.VEps);
    /// <inheritdoc/>
    public static Tensor Update(Tensor v, Tensor? vMax, Tensor g, Tensor m, ScalarCoefficients c)
    {
        using var a = g.abs().add_(c.VEps);
        return v.mul_(c.VDecay).clamp_(min: a, max: null);
    }
}

/// <summary>The second-moment estimators by name: the one registry the presets, options and checkpoints use.</summary>
public static class SecondMoments
{
    private static readonly Dictionary<string, SecondMoment> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["adam"] = new SecondMoment<AdamMoment>("adam", "β₂-average of g² (Adam)"),
        ["amsgrad"] = new SecondMoment<AmsGradMoment>("amsgrad", "Adam's v with a running maximum (AMSGrad)"),
        ["yogi"] = new SecondMoment<YogiMoment>("yogi", "additive sign update of g² (Yogi)"),
        ["adabelief"] = new SecondMoment<AdaBeliefMoment>("adabelief", "β₂-average of (g − m)² + ε (AdaBelief)"),
        ["infinity"] = new SecondMoment<InfinityNormMoment>("infinity", "max(β₂u, |g| + ε) (Adamax)"),
    };

    /// <summary>Every registered estimator name.</summary>
    public static IReadOnlyCollection<string> Names => ByName.Keys;

    /// <summary>The estimator of that name (case-insensitive), or an error listing the valid names.</summary>
    public static SecondMoment Get(string name)
        => ByName.TryGetValue(name, out var e) ? e
           : throw new ArgumentException($"Unknown second-moment estimator '{name}'. Valid: {string.Join(", ", ByName.Keys)}.", "estimator");
}

/// <summary>A registered estimator: its name, and how to run its rule on either execution path.</summary>
public abstract class SecondMoment
{
    /// <summary>Names the estimator.</summary>
    protected SecondMoment(string name, string description) { Name = name; Description = description; }
    /// <summary>The registry name (option <c>estimator</c>).</summary>
    public string Name { get; }
    /// <summary>A one-line description.</summary>
    public string Description { get; }
    /// <summary>Whether the rule keeps a running maximum buffer (AMSGrad).</summary>
    public abstract bool KeepsMax { get; }
    /// <summary>Whether ε enters v itself (the rule's <see cref="ISecondMomentRule.EpsInV"/>).</summary>
    public abstract bool EpsInV { get; }
    /// <summary>The preconditioner for this estimator's value given where ε goes.</summary>
    public abstract Preconditioner PreconditionerFor(EpsMode epsMode);
    /// <summary>Whether the ε placement (<c>eps_mode</c>) matters for this estimator.</summary>
    public bool UsesEpsMode => PreconditionerFor(EpsMode.Inside) != PreconditionerFor(EpsMode.Outside);
    /// <summary>Tensor path: updates the state in place and returns the tensor H reads.</summary>
    public abstract Tensor Update(Tensor v, Tensor? vMax, Tensor g, Tensor m, ScalarCoefficients c);
    /// <summary>Kernel path: calls back with the rule as a type argument, so the fused loop is specialised for it.</summary>
    public abstract void Accept<TVisitor>(ref TVisitor visitor) where TVisitor : struct, ISecondMomentVisitor;
    /// <summary>The registry name.</summary>
    public override string ToString() => Name;
}

/// <summary>Receives an estimator's rule type (double dispatch into generic, specialised kernels).</summary>
public interface ISecondMomentVisitor
{
    /// <summary>Called with the estimator's rule type.</summary>
    void Visit<TRule>() where TRule : struct, ISecondMomentRule;
}

internal sealed class SecondMoment<TRule> : SecondMoment where TRule : struct, ISecondMomentRule
{
    public SecondMoment(string name, string description) : base(name, description) { }
    public override bool KeepsMax => TRule.KeepsMax;
    public override bool EpsInV => TRule.EpsInV;
    public override Preconditioner PreconditionerFor(EpsMode epsMode) => TRule.PreconditionerFor(epsMode);
    public override Tensor Update(Tensor v, Tensor? vMax, Tensor g, Tensor m, ScalarCoefficients c) => TRule.Update(v, vMax, g, m, c);
    public override void Accept<TVisitor>(ref TVisitor visitor) => visitor.Visit<TRule>();
}
