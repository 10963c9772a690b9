using AdamFamily.Execution;
using AdamFamily.Rules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace AdamFamily;

/// <summary>
/// The AFMDW optimizer (Ding, Xiao and Toh, arXiv 2310.08858): one TorchSharp optimizer for every update
/// rule of the Adam family with decoupled weight decay. The presets (<see cref="AdamD"/>, <see cref="AdamW"/>,
/// ...) are subclasses that only fix defaults; this class does the work. It plugs into TorchSharp like the
/// built-in optimizers: step(closure), zero_grad, state_dict / load_state_dict(StateDictionary), to(device),
/// parameter groups and every lr_scheduler (it implements <see cref="IBetas"/>). Checkpoints are written and
/// read with <see cref="SaveCheckpoint(string)"/> and <see cref="LoadCheckpoint(string)"/> (atomic, checksummed,
/// all or nothing). The class is split by job: this file (construction, groups, options), the step
/// (AfmdwOptimizer.Step.cs), checkpoints (AfmdwOptimizer.Checkpoint.cs) and the group type.
/// </summary>
public partial class AfmdwOptimizer : OptimizerHelper, IBetas
{
    // Reused every step (grown only when a step has more parameters than any before).
    private readonly KernelBatch _batch = new();
    private Pending[] _pending = new Pending[16];
    private int _pendingCount;
    private WorkItem[] _slow = new WorkItem[4];
    private int _slowCount;
    private int _kernelThreads = Environment.ProcessorCount;
    private readonly DiagnosticsAccumulator _diagnostics = new();
    private long _stepCount;

    /// <summary>Builds the optimizer from complete defaults and groups (presets call this).</summary>
    protected AfmdwOptimizer(AfmdwOptions defaults, IEnumerable<ParamGroup> groups)
    {
        defaults.InitialLearningRate = defaults.LearningRate ?? throw new ArgumentNullException(nameof(defaults), "defaults need a learning rate");
        defaults.Validate(GetType().Name);
        _defaults = defaults;
        _parameter_groups = new List<TorchSharp.Modules.ParamGroup>();
        foreach (var g in groups) add_param_group(g);
        if (_parameter_groups.Count == 0) throw new ArgumentException($"{GetType().Name}: no parameters to optimise.", "parameters");
    }

    /// <summary>The generic AFMDW optimizer with every option explicit (unset ones take AdamD's defaults).</summary>
    public AfmdwOptimizer(IEnumerable<Parameter> parameters, AfmdwOptions? options = null)
        : this(Presets.Complete("afmdw", options), new[] { new ParamGroup(parameters) }) { }

    /// <summary>The generic AFMDW optimizer over parameter groups.</summary>
    public AfmdwOptimizer(IEnumerable<ParamGroup> groups, AfmdwOptions? defaults = null)
        : this(Presets.Complete("afmdw", defaults), groups) { }

    /// <summary>The optimizer-level defaults (complete).</summary>
    public AfmdwOptions Defaults => (AfmdwOptions)_defaults;

    /// <summary>The parameter groups, typed.</summary>
    public IReadOnlyList<ParamGroup> Groups => _parameter_groups.Cast<ParamGroup>().ToList();

    /// <summary>What a step does with a non-finite gradient; <see cref="NonFinitePolicy.Throw"/> by default.</summary>
    public NonFinitePolicy NonFinitePolicy { get; set; } = NonFinitePolicy.Throw;

    /// <summary>
    /// Tells the next <c>step()</c> the gradients' total norm, as a training loop that clips already computes it
    /// (<c>clip_grad_norm_</c>). A finite total norm proves every gradient element finite, so that step skips its own
    /// read-only check pass under <see cref="NonFinitePolicy.Throw"/> and <see cref="NonFinitePolicy.Skip"/> (one read of
    /// every gradient, ~1/7 of an Adam step's memory traffic). A non-finite norm changes nothing: the step checks as
    /// usual and names the parameter. The note covers one step and is dropped by <c>step()</c> and <c>zero_grad()</c>;
    /// scaling the gradients afterwards (clipping) keeps them finite, but anything else that writes them must not follow it.
    /// </summary>
    public void NoteGradientNorm(double totalNorm) => _gradientsKnownFinite = double.IsFinite(totalNorm);

    private bool _gradientsKnownFinite;

    /// <summary>Steps skipped under <see cref="NonFinitePolicy.Skip"/>.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>
    /// Whether steps refuse preconditioned decay with η·σ·max H ≥ 1 (on by default; switch off only to
    /// study the overshoot). Setting it sets every group's option; the option can also be given per group
    /// or at construction (<c>stability_check=false</c>), where the first check happens.
    /// </summary>
    public bool StabilityCheck
    {
        get => Defaults.StabilityCheck ?? true;
        set
        {
            Defaults.StabilityCheck = value;
            foreach (var g in _parameter_groups) ((ParamGroup)g).Options.StabilityCheck = value;
        }
    }

    /// <summary>Which execution path steps use.</summary>
    public ExecutionPath ExecutionPath { get; set; } = ExecutionPath.Auto;

    /// <summary>
    /// The most threads the fused CPU kernel uses per step (the calling thread included); default
    /// <see cref="Environment.ProcessorCount"/>. Results do not depend on it (the step is element-wise).
    /// </summary>
    public int KernelThreads
    {
        get => _kernelThreads;
        set => _kernelThreads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(KernelThreads), value, "KernelThreads must be ≥ 1.");
    }

    /// <summary>How many parameters the last applied step updated with the fused kernel (for tests and benchmarks).</summary>
    internal int LastKernelParameters { get; private set; }
    /// <summary>How many parameters the last applied step updated with tensor ops.</summary>
    internal int LastTensorOpParameters { get; private set; }

    /// <summary>When true, every step computes <see cref="LastDiagnostics"/> (costs extra passes; off by default).</summary>
    public bool CollectDiagnostics { get; set; }

    /// <summary>The diagnostics of the last step taken with <see cref="CollectDiagnostics"/> on.</summary>
    public StepDiagnostics? LastDiagnostics { get; private set; }

    /// <summary>Steps this optimizer has applied: skipped ones and steps where no parameter had a gradient excluded; after a checkpoint is loaded, the most steps any of its parameters had taken.</summary>
    public long StepCount => _stepCount;

    /// <summary>The optimizer-level (β₁, β₂) defaults, which groups added later inherit; checked when set.</summary>
    public (double, double) Betas
    {
        get => (Defaults.Beta1!.Value, Defaults.Beta2!.Value);
        set
        {
            var check = Defaults.Clone();
            check.Beta1 = value.Item1; check.Beta2 = value.Item2;
            check.Validate(GetType().Name);
            Defaults.Beta1 = value.Item1; Defaults.Beta2 = value.Item2;
        }
    }

    /// <summary>The state of a parameter (for inspection and tests).</summary>
    public ParameterState StateOf(Parameter p) => (ParameterState)_state[p.Handle];

    /// <summary>Adds a group (an <see cref="ParamGroup"/>): unset options inherit the defaults; everything is checked first.</summary>
    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
    {
        if (param_group is not ParamGroup g)
            throw new ArgumentException($"{GetType().Name}: parameter groups must be {typeof(AfmdwOptimizer).FullName}.ParamGroup, got {param_group.GetType().FullName}.", nameof(param_group));
        g.Options ??= new AfmdwOptions();
        g.Options.FillFrom(Defaults);
        g.Options.InitialLearningRate = g.Options.LearningRate!.Value;
        int index = _parameter_groups.Count;
        g.Params = g.Parameters as Parameter[] ?? g.Parameters.ToArray();
        g.Parameters = g.Params; // materialised: Module.parameters() is lazy
        var handles = new HashSet<IntPtr>();
        var data = new HashSet<IntPtr>();
        foreach (var p in _parameter_groups.SelectMany(o => ((ParamGroup)o).Params)) data.Add(NativeTensors.DataPointer(p));
        for (int i = 0; i < g.Params.Length; i++)
        {
            var p = g.Params[i];
            // Complex parameters would be stepped with g·g in place of |g|² (their imaginary parts silently frozen);
            // integer ones cannot be stepped at all: refuse both here rather than compute something wrong.
            if (!torch.is_floating_point(p) || torch.is_complex(p))
                throw new ArgumentException(
                    $"{GetType().Name} group {index}: parameter {i} (shape [{string.Join(",", p.shape)}]) has dtype {p.dtype}; the Adam-family rules here step real floating-point " +
                    "parameters (float16, bfloat16, float32, float64). For a complex parameter, optimise a real one and view it with torch.view_as_complex.", nameof(param_group));
            var ptr = NativeTensors.DataPointer(p);
            if (_state.ContainsKey(p.Handle) || !handles.Add(p.Handle) || (ptr != IntPtr.Zero && !data.Add(ptr)))
                throw new ArgumentException(
                    $"{GetType().Name} group {index}: parameter {i} (shape [{string.Join(",", p.shape)}]) appears more than once (twice in this group, or in more than one group); " +
                    "it would be updated twice per step. Pass each parameter once.", nameof(param_group));
        }
        var rule = RuleOf(g, index);
        CheckLearningRate(g, index, rule, g.Options.LearningRate!.Value);
        _parameter_groups.Add(g);
        foreach (var p in g.Params)
        {
            // The parameter's ordinal seeds its stochastic-rounding bits (low-precision state).
            var s = new ParameterState(p) { RoundingSeed = (ulong)_state.Count };
            s.EnsureBuffers(rule, g.Options.InitialAccumulator ?? 0);
            _state[p.Handle] = s;
        }
    }

    /// <summary>
    /// The group's rule, rebuilt (and its options re-validated) only when an option changed since the last
    /// step: options changed after construction are checked before the next step writes anything.
    /// </summary>
    private UpdateRule RuleOf(ParamGroup g, int index)
    {
        if (g.Rule is null || g.RuleVersion != g.Options.Version)
        {
            g.Rule = g.Options.Validate($"{GetType().Name} group {index}");
            g.RuleVersion = g.Options.Version;
            g.CheckedLearningRate = double.NaN;
        }
        return g.Rule;
    }

    /// <summary>
    /// The learning rate's declared range and the stability of preconditioned decay at it; only when the rate
    /// changed (a scheduler sets it without touching the options' version) or the rule was rebuilt.
    /// </summary>
    private void CheckLearningRate(ParamGroup g, int index, UpdateRule rule, double lr)
    {
        if (lr == g.CheckedLearningRate) return;
        if (OptionSchema.LearningRate.CheckRange(lr) is { } broken)
            throw new ArgumentOutOfRangeException("lr", lr, $"{GetType().Name} group {index}: lr = {lr} is out of range: {broken} (set by a scheduler?).");
        if ((g.Options.StabilityCheck ?? true) && rule.Decay == DecayPlacement.Preconditioned && rule.WeightDecay > 0 && rule.Estimator is not null)
        {
            double maxH = rule.Preconditioner == Preconditioner.EpsInside ? 1 / Math.Sqrt(rule.Eps) : 1 / rule.Eps;
            double factor = lr * rule.WeightDecay * maxH;
            if (!(factor < 1))
            {
                string hName = rule.Preconditioner == Preconditioner.EpsInside ? "ε^(−1/2)" : "1/ε";
                throw new UnstableDecayException(
                    $"{GetType().Name} group {index}: preconditioned weight decay is unstable: lr·weight_decay·{hName} = {lr:G4}·{rule.WeightDecay:G4}·{maxH:G4} = {factor:G4} ≥ 1, " +
                    $"so a coordinate with zero gradient would overshoot zero every step. Lower lr below {1 / (rule.WeightDecay * maxH):G4}, " +
                    $"or weight_decay below {1 / (lr * maxH):G4}, or raise eps; or use decay=decoupled.");
            }
        }
        g.CheckedLearningRate = lr;
    }

    /// <summary>Zeroes every parameter's gradient in place.</summary>
    public override void zero_grad()
    {
        _gradientsKnownFinite = false;
        foreach (var g in _parameter_groups)
            foreach (var p in ((ParamGroup)g).Params)
            {
                using var grad = p.grad;
                grad?.zero_();
            }
    }

    /// <summary>Releases the state buffers.</summary>
    protected override void Dispose(bool disposing)
    {
        // By the state table, not the parameters: a parameter disposed before its optimizer has no handle left.
        if (disposing)
            foreach (var state in _state.Values) (state as IDisposable)?.Dispose();
        base.Dispose(disposing);
    }

}
