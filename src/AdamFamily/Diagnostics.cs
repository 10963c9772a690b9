using static TorchSharp.torch;

namespace AdamFamily;

/// <summary>
/// What one optimizer step did, read out only when asked for (<see cref="AfmdwOptimizer.CollectDiagnostics"/>).
/// </summary>
/// <param name="Step">The optimizer's step counter after the step.</param>
/// <param name="Stationarity">‖d + σx‖ over all parameters (docs/algorithms.md §5.1): d the bias-corrected direction, σ the
/// decay that is not already inside the gradient (0 for L2/coupled decay, whose d already contains σx).</param>
/// <param name="UpdateNorm">‖x_new − x_old‖ over all parameters.</param>
/// <param name="MaxDecayFactor">The largest per-coordinate shrink the decay term applied this step (η·σ·max H for
/// preconditioned decay, ησ for decoupled).</param>
public sealed record StepDiagnostics(long Step, double Stationarity, double UpdateNorm, double MaxDecayFactor);

/// <summary>Sums the diagnostic quantities over the parameters of one step.</summary>
internal sealed class DiagnosticsAccumulator
{
    private double _stationarity2, _update2, _maxDecay;

    public void Reset() { _stationarity2 = 0; _update2 = 0; _maxDecay = 0; }
    public void AddStationarity(Tensor v) => _stationarity2 += SquaredNorm(v);
    public void AddUpdate(Tensor delta) { _update2 += SquaredNorm(delta); delta.Dispose(); }
    public void AddDecay(double factor) => _maxDecay = Math.Max(_maxDecay, factor);

    public StepDiagnostics Result(long step) => new(step, Math.Sqrt(_stationarity2), Math.Sqrt(_update2), _maxDecay);

    private static double SquaredNorm(Tensor v)
    {
        using var n = v.to_type(ScalarType.Float64).square().sum();
        return n.item<double>();
    }
}
