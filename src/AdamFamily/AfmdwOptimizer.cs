using AdamFamily.Execution;
using AdamFamily.Rules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

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

/// <summary>A gradient held NaN or ±∞ under <see cref="NonFinitePolicy.Throw"/>; nothing was modified.</summary>
public sealed class NonFiniteGradientException : ArithmeticException
{
    public NonFiniteGradientException(string message) : base(message) { }
}

/// <summary>Preconditioned weight decay would overshoot (η·σ·max H ≥ 1); nothing was modified.</summary>
public sealed class UnstableDecayException : ArgumentException
{
    public UnstableDecayException(string message) : base(message) { }
}

/// <summary>
/// The AFMDW optimizer (Ding, Xiao and Toh, arXiv 2310.08858): one TorchSharp optimizer for every update
/// rule of the Adam family with decoupled weight decay. The presets (<see cref="AdamD"/>, <see cref="AdamW"/>,
/// ...) are subclasses that only fix defaults; this class does the work. It plugs into TorchSharp like the
/// built-in optimizers: step(closure), zero_grad, state_dict / load_state_dict, save_state_dict,
/// to(device), parameter groups and every lr_scheduler (it implements <see cref="IBetas"/>).
/// </summary>
public class AfmdwOptimizer : OptimizerHelper, IBetas
{
    /// <summary>A parameter group: its parameters (materialised at construction) and its options; unset options inherit the optimizer's defaults.</summary>
    public class ParamGroup : ParamGroup<AfmdwOptions>, IBetas
    {
        public ParamGroup() { }

        public ParamGroup(IEnumerable<Parameter> parameters, AfmdwOptions? options = null)
            : base(parameters.ToArray(), options ?? new AfmdwOptions()) { }

        /// <summary>A group whose parameters carry names (used in error messages).</summary>
        public ParamGroup(IEnumerable<(string name, Parameter parameter)> parameters, AfmdwOptions? options = null)
            : this(parameters.ToArray(), options) { }

        private ParamGroup((string name, Parameter parameter)[] named, AfmdwOptions? options)
            : base(named.Select(n => n.parameter).ToArray(), options ?? new AfmdwOptions())
        {
            Names = named.Select(n => n.name).ToArray();
        }

        /// <summary>Parameter names, parallel to Parameters, when the group was built from named parameters.</summary>
        public IReadOnlyList<string>? Names { get; init; }

        public (double, double) Betas
        {
            get => (Options.Beta1!.Value, Options.Beta2!.Value);
            set { Options.Beta1 = value.Item1; Options.Beta2 = value.Item2; }
        }

        // Cached resolved rule, rebuilt only when the options change (no allocation per step).
        internal UpdateRule? Rule;
        internal int RuleVersion = -1;
        internal double CheckedLearningRate = double.NaN;
        internal Parameter[] Params = Array.Empty<Parameter>();
    }

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

    /// <summary>How many parameters the last applied step updated with the fused kernel, and with tensor ops (for tests and benchmarks).</summary>
    internal int LastKernelParameters { get; private set; }
    internal int LastTensorOpParameters { get; private set; }

    /// <summary>When true, every step computes <see cref="LastDiagnostics"/> (costs extra passes; off by default).</summary>
    public bool CollectDiagnostics { get; set; }

    /// <summary>The diagnostics of the last step taken with <see cref="CollectDiagnostics"/> on.</summary>
    public StepDiagnostics? LastDiagnostics { get; private set; }

    /// <summary>Steps this optimizer has applied (skipped ones excluded).</summary>
    public long StepCount => _stepCount;

    public (double, double) Betas
    {
        get => (Defaults.Beta1!.Value, Defaults.Beta2!.Value);
        set { Defaults.Beta1 = value.Item1; Defaults.Beta2 = value.Item2; }
    }

    /// <summary>The state of a parameter (for inspection and tests).</summary>
    public ParameterState StateOf(Parameter p) => (ParameterState)_state[p.Handle];

    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
    {
        if (param_group is not ParamGroup g)
            throw new ArgumentException($"{GetType().Name}: parameter groups must be {typeof(AfmdwOptimizer).FullName}.ParamGroup, got {param_group.GetType().FullName}.", nameof(param_group));
        g.Options ??= new AfmdwOptions();
        g.Options.FillFrom(Defaults);
        g.Options.InitialLearningRate = g.Options.LearningRate!.Value;
        int index = _parameter_groups.Count;
        g.Options.Validate($"{GetType().Name} group {index}");
        g.Params = g.Parameters as Parameter[] ?? g.Parameters.ToArray();
        g.Parameters = g.Params; // materialised: Module.parameters() is lazy
        foreach (var p in g.Params)
            if (_state.ContainsKey(p.Handle))
                throw new ArgumentException($"{GetType().Name}: a parameter (shape [{string.Join(",", p.shape)}]) appears in more than one group.", nameof(param_group));
        var rule = RuleOf(g);
        CheckStability(g, index, rule, g.Options.LearningRate!.Value);
        _parameter_groups.Add(g);
        foreach (var p in g.Params)
        {
            // The parameter's ordinal seeds its stochastic-rounding bits (low-precision state).
            var s = new ParameterState(p) { RoundingSeed = (ulong)_state.Count };
            s.EnsureBuffers(rule, g.Options.InitialAccumulator ?? 0);
            _state[p.Handle] = s;
        }
    }

    private static UpdateRule RuleOf(ParamGroup g)
    {
        if (g.Rule is null || g.RuleVersion != g.Options.Version)
        {
            g.Rule = g.Options.ToRule();
            g.RuleVersion = g.Options.Version;
            g.CheckedLearningRate = double.NaN;
        }
        return g.Rule;
    }

    private void CheckStability(ParamGroup g, int index, UpdateRule rule, double lr)
    {
        if (lr == g.CheckedLearningRate) return;
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

    public override Tensor step(Func<Tensor>? closure = null)
    {
        Tensor? loss = null;
        if (closure is not null)
            using (enable_grad()) loss = closure();

        // A step runs in four phases: plan every coefficient (nothing written), check the gradients,
        // apply, commit the step scalars. Kernel-eligible parameters of all groups go into one batch that
        // runs on the worker pool; the rest take the tensor-op path. After the first step the kernel path
        // allocates no managed memory: gradients are read as native handles, the batch and the pending
        // lists are reused, and no dispose scope or no_grad guard is needed (the kernel writes raw memory).
        bool diag = CollectDiagnostics;
        bool useKernel = !diag && ExecutionPath == ExecutionPath.Auto;
        _batch.Clear();
        _slowCount = 0;
        _pendingCount = 0;
        try
        {
            // 1. Plan: every coefficient and check before anything is modified.
            for (int gi = 0; gi < _parameter_groups.Count; gi++)
            {
                var g = (ParamGroup)_parameter_groups[gi];
                var rule = RuleOf(g);
                double lr = g.Options.LearningRate!.Value;
                if (!(double.IsFinite(lr) && lr >= 0))
                    throw new ArgumentOutOfRangeException("lr", lr, $"{GetType().Name} group {gi}: lr = {lr} is out of range: must be a finite number ≥ 0 (set by a scheduler?).");
                CheckStability(g, gi, rule, lr);
                for (int pi = 0; pi < g.Params.Length; pi++)
                {
                    var p = g.Params[pi];
                    var grad = NativeTensors.TryGetGrad(p, out var wrapper);
                    if (grad == IntPtr.Zero) continue;
                    int pending = AddPending(gi, pi, grad, wrapper);
                    var state = (ParameterState)_state[p.Handle];
                    state.EnsureBuffers(rule, g.Options.InitialAccumulator ?? 0);
                    var (coef, next) = rule.Plan(state.Scalars, lr, g.Options.InitialLearningRate);
                    _pending[pending].State = state;
                    _pending[pending].Next = next;
                    if (useKernel && FusedCpuKernel.TryPrepare(p, grad, wrapper, state, rule.Estimator, coef, out var job))
                    {
                        _batch.Add(job);
                        _pending[pending].Job = _batch.JobCount - 1;
                    }
                    else AddSlow(new WorkItem(gi, pi, p, pending, state, rule, coef));
                }
            }
            _batch.Partition();
            int threads = Math.Max(1, KernelThreads);
            var pool = threads > 1 && _batch.ChunkCount > 1 ? KernelPool.Shared : null;

            // The tensor-op path needs managed gradient tensors, a dispose scope and no_grad.
            using var scope = _slowCount > 0 ? NewDisposeScope() : null;
            using var noGrad = _slowCount > 0 ? no_grad() : null;
            for (int i = 0; i < _slowCount; i++)
            {
                ref var pend = ref _pending[_slow[i].Pending];
                pend.Wrapper ??= NativeTensors.Wrap(pend.Grad); // the wrapper now owns the handle
            }

            // 2. Non-finite gradients, before any write: a parallel read-only pass over the kernel's
            //    gradients (the one extra pass this policy costs), then the others.
            if (NonFinitePolicy != NonFinitePolicy.Propagate && !_gradientsKnownFinite)
            {
                int badJob = _batch.JobCount > 0 ? _batch.FindNonFinite(pool, threads) : -1;
                int bad = -1;
                for (int i = 0; i < _pendingCount && bad < 0; i++)
                {
                    ref var pend = ref _pending[i];
                    if (pend.Job >= 0 ? pend.Job == badJob : !NonFinite.IsAllFinite(pend.Wrapper!)) bad = i;
                }
                if (bad >= 0)
                {
                    if (NonFinitePolicy == NonFinitePolicy.Skip) { SkippedSteps++; return loss!; }
                    ref var b = ref _pending[bad];
                    var bg = (ParamGroup)_parameter_groups[b.Group];
                    throw new NonFiniteGradientException(
                        $"{GetType().Name}: the gradient of {DescribeParameter(b.Group, b.Index, bg.Params[b.Index])} holds NaN or infinite values; no parameter or state was modified. " +
                        "Lower the learning rate, clip gradients, or set NonFinitePolicy = Skip to skip such steps.");
                }
            }

            // 3. Apply: the kernel batch on the pool, then the tensor-op items.
            if (_batch.JobCount > 0) _batch.Apply(pool, threads);
            if (_slowCount > 0) ApplyTensorOps(diag);

            LastKernelParameters = _batch.JobCount;
            LastTensorOpParameters = _slowCount;

            // 4. Commit the step scalars.
            for (int i = 0; i < _pendingCount; i++) _pending[i].State!.Scalars = _pending[i].Next;
            _stepCount++;
            if (diag) LastDiagnostics = _diagnostics.Result(_stepCount);
            return loss!;
        }
        finally
        {
            _gradientsKnownFinite = false;
            for (int i = 0; i < _pendingCount; i++)
            {
                ref var pend = ref _pending[i];
                NativeTensors.Release(pend.Grad, pend.Wrapper);
                pend = default;
            }
            for (int i = 0; i < _slowCount; i++) _slow[i] = default;
            _pendingCount = 0;
            _slowCount = 0;
            _batch.Clear();
        }
    }

    private void ApplyTensorOps(bool diag)
    {
        if (diag) _diagnostics.Reset();
        ScalarCoefficients? scalars = null; // built once per group and step count, as the coefficients change
        try
        {
            for (int i = 0; i < _slowCount; i++)
            {
                ref var w = ref _slow[i];
                var c = w.Coefficients;
                if (scalars is null || scalars.Coefficients != c)
                {
                    scalars?.Dispose();
                    scalars = new ScalarCoefficients(c);
                }
                double measureSigma = w.Rule.Decay is DecayPlacement.Preconditioned or DecayPlacement.Decoupled ? w.Rule.WeightDecay : 0;
                TensorStep.Apply(w.Param, _pending[w.Pending].Wrapper!, w.State, w.Rule.Estimator, c, scalars, diag ? _diagnostics : null, measureSigma);
            }
        }
        finally { scalars?.Dispose(); }
    }

    private int AddPending(int group, int index, IntPtr grad, Tensor? wrapper)
    {
        if (_pendingCount == _pending.Length) Array.Resize(ref _pending, _pending.Length * 2);
        _pending[_pendingCount] = new Pending { Group = group, Index = index, Grad = grad, Wrapper = wrapper, Job = -1 };
        return _pendingCount++;
    }

    private void AddSlow(in WorkItem item)
    {
        if (_slowCount == _slow.Length) Array.Resize(ref _slow, _slow.Length * 2);
        _slow[_slowCount++] = item;
    }

    private string DescribeParameter(int group, int index, Parameter p)
    {
        var g = (ParamGroup)_parameter_groups[group];
        string name = g.Names is { } names && index < names.Count ? $"'{names[index]}' " : "";
        return $"parameter {name}(group {group}, index {index}, shape [{string.Join(",", p.shape)}])";
    }

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

    // ---- checkpoints -------------------------------------------------------------------------------

    /// <summary>
    /// Loads a checkpoint written by save_state_dict, all or nothing: the stream is read and checked
    /// completely (optimizer class, format version, group and parameter counts, every buffer's shape and
    /// dtype) before anything here changes. A bad file throws <see cref="InvalidDataException"/> naming it.
    /// </summary>
    public new void load_state_dict(string location)
    {
        if (!File.Exists(location)) throw new FileNotFoundException($"{GetType().Name}: checkpoint '{location}' does not exist.", location);
        using var stream = File.OpenRead(location);
        using var reader = new BinaryReader(stream);
        LoadAtomically(reader, $"checkpoint '{location}'");
    }

    /// <inheritdoc cref="load_state_dict(string)"/>
    public new void load_state_dict(BinaryReader reader) => LoadAtomically(reader, "checkpoint stream");

    /// <summary>Saves a checkpoint to a file, atomically (written to a temporary file, then renamed).</summary>
    public new void save_state_dict(string location)
    {
        var tmp = location + ".tmp";
        using (var stream = File.Create(tmp))
        using (var writer = new BinaryWriter(stream))
        {
            save_state_dict(writer);
        }
        File.Move(tmp, location, overwrite: true);
    }

    private void LoadAtomically(BinaryReader reader, string what)
    {
        var groups = _parameter_groups.Cast<ParamGroup>().ToList();
        var stagedOptions = new List<AfmdwOptions>();
        var stagedStates = new List<ParameterState>();
        try
        {
            string name;
            int groupCount, stateCount;
            try
            {
                name = reader.ReadString();
                groupCount = ReadLeb128(reader);
                stateCount = ReadLeb128(reader);
            }
            catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
            {
                throw new InvalidDataException($"{GetType().Name}: {what} is not an optimizer checkpoint (cannot read its header: {e.Message}).", e);
            }
            if (name != GetType().Name)
                throw new InvalidDataException($"{GetType().Name}: {what} was written by optimizer '{name}', not '{GetType().Name}'. Load it into a {name}.");
            int params_ = groups.Sum(g => g.Params.Length);
            if (groupCount != groups.Count)
                throw new InvalidDataException($"{GetType().Name}: {what} has {groupCount} parameter groups; this optimizer has {groups.Count}.");
            if (stateCount != params_)
                throw new InvalidDataException($"{GetType().Name}: {what} has state for {stateCount} parameters; this optimizer has {params_}.");
            try
            {
                for (int i = 0; i < groupCount; i++) stagedOptions.Add(AfmdwOptions.ReadFrom(reader));
                foreach (var g in groups)
                    foreach (var p in g.Params)
                        stagedStates.Add(ParameterState.ReadFrom(reader, p));
            }
            catch (Exception e) when (e is EndOfStreamException or IOException)
            {
                throw new InvalidDataException($"{GetType().Name}: {what} is truncated or corrupt ({e.Message}); nothing was loaded.", e);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{GetType().Name}: {what}: {e.Message} Nothing was loaded.", e);
            }
            catch (Exception e) when (e is not InvalidDataException)
            {
                throw new InvalidDataException($"{GetType().Name}: {what} is corrupt ({e.GetType().Name}: {e.Message}); nothing was loaded.", e);
            }

            // A checkpoint's state precision must be this optimizer's: loading is never a silent reinterpretation
            // (or a silent change of what the user constructed).
            for (int i = 0; i < groups.Count; i++)
            {
                var mine = groups[i].Options.StatePrecision ?? StatePrecision.Float32;
                var theirs = stagedOptions[i].StatePrecision ?? StatePrecision.Float32;
                if (mine != theirs)
                    throw new InvalidDataException(
                        $"{GetType().Name}: {what} holds {theirs.Name()} optimizer state (group {i}) but this optimizer uses state_precision={mine.Name()}. " +
                        $"Construct the optimizer with state_precision={theirs.Name()} to load it; nothing was loaded.");
            }
            int ks = 0;
            for (int gi = 0; gi < groups.Count; gi++)
                foreach (var p in groups[gi].Params)
                {
                    var st = stagedStates[ks++];
                    if (st.Precision != (stagedOptions[gi].StatePrecision ?? StatePrecision.Float32))
                        throw new InvalidDataException($"{GetType().Name}: {what} is inconsistent: group {gi}'s options say state_precision={stagedOptions[gi].StatePrecision?.Name() ?? "float32"} but a parameter's state is {st.Precision.Name()}; nothing was loaded.");
                }

            // Everything read and checked: commit.
            for (int i = 0; i < groups.Count; i++) groups[i].Options.LoadStateDict(stagedOptions[i]);
            int k = 0;
            foreach (var g in groups)
                foreach (var p in g.Params)
                    _state[p.Handle].LoadStateDict(stagedStates[k++]);
        }
        finally
        {
            foreach (var s in stagedStates) s.Dispose();
        }
    }

    // TorchSharp writes the group and state counts as unsigned LEB128; read them with a bound so a
    // foreign file fails fast instead of decoding garbage.
    private static int ReadLeb128(BinaryReader reader)
    {
        long value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            byte b = reader.ReadByte();
            value |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value <= int.MaxValue ? (int)value : throw new FormatException("count too large");
        }
        throw new FormatException("count too long");
    }

    public override void load_state_dict(StateDictionary state_dict)
    {
        var sd = this.state_dict();
        if (state_dict.Options.Count != sd.Options.Count)
            throw new ArgumentException($"{GetType().Name}: the state dictionary has {state_dict.Options.Count} parameter groups; this optimizer has {sd.Options.Count}.");
        if (state_dict.State.Count != sd.State.Count)
            throw new ArgumentException($"{GetType().Name}: the state dictionary has state for {state_dict.State.Count} parameters; this optimizer has {sd.State.Count}.");
        for (int i = 0; i < sd.State.Count; i++)
        {
            if (state_dict.State[i] is not ParameterState src)
                throw new ArgumentException($"{GetType().Name}: state {i} is a {state_dict.State[i].GetType().Name}, not an AdamFamily state.");
            var mine = (ParameterState)sd.State[i];
            foreach (var (t, n) in new[] { (src.M, "m"), (src.V, "v"), (src.VMax, "v_max") })
                if (t is not null && !t.shape.SequenceEqual(mine.Parameter.shape))
                    throw new ArgumentException($"{GetType().Name}: state {i}'s {n} has shape [{string.Join(",", t.shape)}], the parameter [{string.Join(",", mine.Parameter.shape)}].");
        }
        for (int i = 0; i < sd.Options.Count; i++)
            if (state_dict.Options[i] is not AfmdwOptions)
                throw new ArgumentException($"{GetType().Name}: options {i} are {state_dict.Options[i].GetType().Name}, not AdamFamily options.");
        base.load_state_dict(state_dict);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            foreach (var g in _parameter_groups)
                foreach (var p in ((ParamGroup)g).Params)
                    (_state[p.Handle] as IDisposable)?.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>A parameter with a gradient this step: its native gradient handle (owned until the step ends), where its update runs, and its step scalars to commit.</summary>
    private struct Pending
    {
        public int Group, Index;
        public IntPtr Grad;
        /// <summary>The managed gradient tensor owning <see cref="Grad"/>, when one was needed (tensor-op path, or the public-API fallback).</summary>
        public Tensor? Wrapper;
        /// <summary>The kernel job index, or −1 for the tensor-op path.</summary>
        public int Job;
        public ParameterState? State;
        public StepScalars Next;
    }

    /// <summary>A parameter that takes the tensor-op path.</summary>
    private readonly struct WorkItem
    {
        public WorkItem(int group, int index, Parameter param, int pending, ParameterState state, UpdateRule rule, StepCoefficients coefficients)
        {
            Group = group; Index = index; Param = param; Pending = pending; State = state; Rule = rule; Coefficients = coefficients;
        }
        public readonly int Group, Index, Pending;
        public readonly Parameter Param;
        public readonly ParameterState State;
        public readonly UpdateRule Rule;
        public readonly StepCoefficients Coefficients;
    }
}
