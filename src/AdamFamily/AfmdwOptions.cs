using System.Globalization;
using AdamFamily.Rules;
using TorchSharp.Modules;

namespace AdamFamily;

/// <summary>
/// The hyper-parameters of a parameter group. Every value is optional: a group leaves unset what it
/// inherits from the optimizer's defaults, which the preset fills completely. Names follow PyTorch
/// where PyTorch has the option (lr, betas, eps, weight_decay, ...).
/// </summary>
public sealed class AfmdwOptions : OptimizerOptions
{
    private const int Magic = 0x4F4D4641; // "AFMO"
    internal const int FormatVersion = 2; // 2: + state_precision

    private double? _beta1, _beta2, _eps, _weightDecay, _initialAccumulator, _momentum, _dampening, _momentumDecay;
    private string? _estimator;
    private Direction? _direction;
    private EpsMode? _epsMode;
    private DecayPlacement? _decay;
    private bool? _biasCorrection, _maximize, _rectify, _nesterov, _stabilityCheck;
    private MomentSchedule? _thetaSchedule, _tauSchedule;
    private StatePrecision? _statePrecision;

    /// <summary>Bumped by every setter, so the optimizer rebuilds its cached rule only when something changed.</summary>
    internal int Version { get; private set; }

    private void Set<T>(ref T field, T value) { field = value; Version++; }

    public double? Beta1 { get => _beta1; set => Set(ref _beta1, value); }
    public double? Beta2 { get => _beta2; set => Set(ref _beta2, value); }
    public double? Eps { get => _eps; set => Set(ref _eps, value); }
    /// <summary>σ, the weight decay; where it enters is <see cref="Decay"/>.</summary>
    public double? WeightDecay { get => _weightDecay; set => Set(ref _weightDecay, value); }
    /// <summary>Second-moment estimator by registry name (adam, amsgrad, yogi, adabelief, infinity), or "none" for SGD.</summary>
    public string? Estimator { get => _estimator; set => Set(ref _estimator, value); }
    public Direction? Direction { get => _direction; set => Set(ref _direction, value); }
    public EpsMode? EpsMode { get => _epsMode; set => Set(ref _epsMode, value); }
    public DecayPlacement? Decay { get => _decay; set => Set(ref _decay, value); }
    public bool? BiasCorrection { get => _biasCorrection; set => Set(ref _biasCorrection, value); }
    public bool? Maximize { get => _maximize; set => Set(ref _maximize, value); }
    /// <summary>Initial value of v (Yogi uses 1e-6).</summary>
    public double? InitialAccumulator { get => _initialAccumulator; set => Set(ref _initialAccumulator, value); }
    public MomentSchedule? ThetaSchedule { get => _thetaSchedule; set => Set(ref _thetaSchedule, value); }
    public MomentSchedule? TauSchedule { get => _tauSchedule; set => Set(ref _tauSchedule, value); }
    /// <summary>RAdam's rectification.</summary>
    public bool? Rectify { get => _rectify; set => Set(ref _rectify, value); }
    /// <summary>SGD's momentum μ.</summary>
    public double? Momentum { get => _momentum; set => Set(ref _momentum, value); }
    public double? Dampening { get => _dampening; set => Set(ref _dampening, value); }
    /// <summary>SGD's Nesterov momentum.</summary>
    public bool? Nesterov { get => _nesterov; set => Set(ref _nesterov, value); }
    /// <summary>NAdam's ψ.</summary>
    public double? MomentumDecay { get => _momentumDecay; set => Set(ref _momentumDecay, value); }

    /// <summary>Whether steps refuse preconditioned decay with η·σ·max H ≥ 1 (default true; switch off only to study the overshoot).</summary>
    public bool? StabilityCheck { get => _stabilityCheck; set => Set(ref _stabilityCheck, value); }

    /// <summary>
    /// How m, v (and v_max) are stored: float32 (the parameter's dtype; default, exact), bfloat16 or int8
    /// (blockwise 8-bit codes). Fixed once the state exists: a checkpoint of another precision does not load.
    /// </summary>
    public StatePrecision? StatePrecision { get => _statePrecision; set => Set(ref _statePrecision, value); }

    /// <summary>A copy of these options.</summary>
    public AfmdwOptions Clone()
    {
        var o = new AfmdwOptions { LearningRate = LearningRate, InitialLearningRate = InitialLearningRate };
        o.CopyValues(this, overwrite: true);
        return o;
    }

    /// <summary>Sets every option that is unset here from <paramref name="defaults"/>.</summary>
    internal void FillFrom(AfmdwOptions defaults)
    {
        LearningRate ??= defaults.LearningRate;
        CopyValues(defaults, overwrite: false);
    }

    private void CopyValues(AfmdwOptions s, bool overwrite)
    {
        if (overwrite || _beta1 is null) Beta1 = s._beta1;
        if (overwrite || _beta2 is null) Beta2 = s._beta2;
        if (overwrite || _eps is null) Eps = s._eps;
        if (overwrite || _weightDecay is null) WeightDecay = s._weightDecay;
        if (overwrite || _estimator is null) Estimator = s._estimator;
        if (overwrite || _direction is null) Direction = s._direction;
        if (overwrite || _epsMode is null) EpsMode = s._epsMode;
        if (overwrite || _decay is null) Decay = s._decay;
        if (overwrite || _biasCorrection is null) BiasCorrection = s._biasCorrection;
        if (overwrite || _maximize is null) Maximize = s._maximize;
        if (overwrite || _initialAccumulator is null) InitialAccumulator = s._initialAccumulator;
        if (overwrite || _thetaSchedule is null) ThetaSchedule = s._thetaSchedule;
        if (overwrite || _tauSchedule is null) TauSchedule = s._tauSchedule;
        if (overwrite || _rectify is null) Rectify = s._rectify;
        if (overwrite || _momentum is null) Momentum = s._momentum;
        if (overwrite || _dampening is null) Dampening = s._dampening;
        if (overwrite || _nesterov is null) Nesterov = s._nesterov;
        if (overwrite || _momentumDecay is null) MomentumDecay = s._momentumDecay;
        if (overwrite || _stabilityCheck is null) StabilityCheck = s._stabilityCheck;
        if (overwrite || _statePrecision is null) StatePrecision = s._statePrecision;
    }

    /// <summary>
    /// Checks every value's range and throws an <see cref="ArgumentOutOfRangeException"/> that names the
    /// option (PyTorch's name), the value and the allowed range.
    /// </summary>
    internal void Validate(string where)
    {
        static void Require(bool ok, string name, object? value, string rule, string where)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{where}: {name} = {Format(value)} is out of range: {rule}.");
        }
        var lr = LearningRate;
        Require(lr is { } a && double.IsFinite(a) && a >= 0, "lr", lr, "must be a finite number ≥ 0", where);
        Require(_beta1 is { } b1 && b1 >= 0 && b1 < 1, "beta1", _beta1, "must satisfy 0 ≤ beta1 < 1", where);
        Require(_beta2 is { } b2 && b2 >= 0 && b2 < 1, "beta2", _beta2, "must satisfy 0 ≤ beta2 < 1", where);
        Require(_eps is { } e && double.IsFinite(e) && e >= 0, "eps", _eps, "must be a finite number ≥ 0", where);
        Require(_weightDecay is { } wd && double.IsFinite(wd) && wd >= 0, "weight_decay", _weightDecay, "must be a finite number ≥ 0", where);
        Require(_initialAccumulator is { } ia && double.IsFinite(ia) && ia >= 0, "initial_accumulator", _initialAccumulator, "must be a finite number ≥ 0", where);
        Require(_momentum is { } mo && double.IsFinite(mo) && mo >= 0, "momentum", _momentum, "must be a finite number ≥ 0", where);
        Require(_dampening is { } da && double.IsFinite(da) && da >= 0 && da <= 1, "dampening", _dampening, "must satisfy 0 ≤ dampening ≤ 1", where);
        Require(_momentumDecay is { } md && double.IsFinite(md) && md >= 0, "momentum_decay", _momentumDecay, "must be a finite number ≥ 0", where);
        if (_estimator is not null && !_estimator.Equals("none", StringComparison.OrdinalIgnoreCase)) SecondMoments.Get(_estimator);
        var rule = ToRule();
        if (rule.Estimator is not null && (rule.Preconditioner == Preconditioner.EpsInside || rule.Decay == DecayPlacement.Preconditioned))
            Require(_eps > 0, "eps", _eps, "must be > 0 when ε sits inside the root or the decay is preconditioned (H would be unbounded)", where);
        if (rule.Direction == Rules.Direction.Sgd && rule.Nesterov)
            Require(rule.Momentum > 0 && rule.Dampening == 0, "nesterov", true, "Nesterov momentum requires momentum > 0 and dampening = 0", where);
        if (_statePrecision is { } sp && !Enum.IsDefined(sp))
            Require(false, "state_precision", sp, "must be float32, bfloat16 or int8", where);
        if (rule.Estimator is null && rule.Decay is DecayPlacement.Preconditioned)
            Require(false, "decay", "preconditioned", "a rule without a second moment has no preconditioner; use l2 or decoupled", where);
    }

    /// <summary>The update rule these (complete) options describe.</summary>
    public UpdateRule ToRule() => new()
    {
        Direction = _direction ?? Rules.Direction.HeavyBall,
        Estimator = _estimator is null || _estimator.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : SecondMoments.Get(_estimator),
        EpsMode = _epsMode ?? Rules.EpsMode.Inside,
        Decay = _decay ?? DecayPlacement.Preconditioned,
        BiasCorrection = _biasCorrection ?? true,
        Maximize = _maximize ?? false,
        ThetaSchedule = _thetaSchedule ?? MomentSchedule.Constant,
        TauSchedule = _tauSchedule ?? MomentSchedule.Constant,
        Rectify = _rectify ?? false,
        Beta1 = _beta1 ?? 0.9,
        Beta2 = _beta2 ?? 0.999,
        Eps = _eps ?? 1e-8,
        WeightDecay = _weightDecay ?? 0,
        Momentum = _momentum ?? 0,
        Dampening = _dampening ?? 0,
        Nesterov = _nesterov ?? false,
        MomentumDecay = _momentumDecay ?? 4e-3,
        StatePrecision = _statePrecision ?? Rules.StatePrecision.Float32,
    };

    private static string Format(object? v) => v switch
    {
        null => "(unset)",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    public override void SaveStateDict(BinaryWriter writer)
    {
        base.SaveStateDict(writer);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        var r = ToRule();
        writer.Write(r.Beta1); writer.Write(r.Beta2); writer.Write(r.Eps); writer.Write(r.WeightDecay);
        writer.Write(r.Estimator?.Name ?? "none");
        writer.Write((int)r.Direction); writer.Write((int)r.EpsMode); writer.Write((int)r.Decay);
        writer.Write(r.BiasCorrection); writer.Write(r.Maximize);
        writer.Write(_initialAccumulator ?? 0);
        writer.Write(r.ThetaSchedule.ToString()); writer.Write(r.TauSchedule.ToString());
        writer.Write(r.Rectify); writer.Write(r.Momentum); writer.Write(r.Dampening); writer.Write(r.Nesterov); writer.Write(r.MomentumDecay);
        writer.Write(_stabilityCheck ?? true);
        writer.Write((int)r.StatePrecision);
    }

    public override void LoadStateDict(BinaryReader reader)
    {
        // Read everything into a fresh object first, so a bad stream leaves this one untouched.
        var staged = ReadFrom(reader);
        LoadStateDict(staged);
    }

    /// <summary>Reads options written by <see cref="SaveStateDict"/>; throws <see cref="InvalidDataException"/> on anything else.</summary>
    internal static AfmdwOptions ReadFrom(BinaryReader reader)
    {
        var o = new AfmdwOptions { InitialLearningRate = reader.ReadDouble(), LearningRate = reader.ReadDouble() };
        int magic = reader.ReadInt32();
        if (magic != Magic)
            throw new InvalidDataException("the parameter-group options are not in AdamFamily's format (no AFMO marker): the checkpoint was written by another optimizer library (for example TorchSharp's own optimizer of the same class name).");
        int version = reader.ReadInt32();
        if (version < 1 || version > FormatVersion)
            throw new InvalidDataException($"the checkpoint's options format version is {version}; this AdamFamily reads versions 1 to {FormatVersion}. Upgrade AdamFamily to load it.");
        o.Beta1 = reader.ReadDouble(); o.Beta2 = reader.ReadDouble(); o.Eps = reader.ReadDouble(); o.WeightDecay = reader.ReadDouble();
        o.Estimator = reader.ReadString();
        o.Direction = ReadEnum<Direction>(reader, "direction"); o.EpsMode = ReadEnum<EpsMode>(reader, "eps_mode"); o.Decay = ReadEnum<DecayPlacement>(reader, "decay");
        o.BiasCorrection = reader.ReadBoolean(); o.Maximize = reader.ReadBoolean();
        o.InitialAccumulator = reader.ReadDouble();
        o.ThetaSchedule = MomentSchedule.Parse(reader.ReadString(), "theta_schedule"); o.TauSchedule = MomentSchedule.Parse(reader.ReadString(), "tau_schedule");
        o.Rectify = reader.ReadBoolean(); o.Momentum = reader.ReadDouble(); o.Dampening = reader.ReadDouble(); o.Nesterov = reader.ReadBoolean(); o.MomentumDecay = reader.ReadDouble();
        o.StabilityCheck = reader.ReadBoolean();
        o.StatePrecision = version >= 2 ? ReadEnum<StatePrecision>(reader, "state_precision") : Rules.StatePrecision.Float32;
        try { o.Validate("checkpoint"); }
        catch (ArgumentException e) { throw new InvalidDataException($"the checkpoint holds invalid options: {e.Message}", e); }
        return o;
    }

    private static T ReadEnum<T>(BinaryReader reader, string name) where T : struct, Enum
    {
        int v = reader.ReadInt32();
        if (!Enum.IsDefined(typeof(T), v)) throw new InvalidDataException($"the checkpoint holds an unknown {name} code {v}.");
        return (T)(object)v;
    }

    public override void LoadStateDict(OptimizerOptions source)
    {
        if (source is not AfmdwOptions s)
            throw new InvalidDataException($"cannot load options of type {source.GetType().Name} into AdamFamily options.");
        InitialLearningRate = s.InitialLearningRate;
        LearningRate = s.LearningRate;
        CopyValues(s, overwrite: true);
    }
}
