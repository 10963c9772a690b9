using AdamFamily.Execution;
using AdamFamily.Rules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace AdamFamily;

public partial class AfmdwOptimizer
{
    /// <summary>
    /// Takes one step over every parameter with a gradient (after calling <paramref name="closure"/>, if given,
    /// with gradients enabled) and returns its loss. All or nothing: options, learning rates, stability,
    /// gradient shapes and (under <see cref="NonFinitePolicy.Throw"/>/<see cref="NonFinitePolicy.Skip"/>)
    /// gradient values are checked before any parameter or state is written.
    /// </summary>
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
            // 0. Every group's options (re-validated when changed since the last step), learning rate and
            //    stability (checked when the learning rate changed), before any buffer is touched.
            for (int gi = 0; gi < _parameter_groups.Count; gi++)
            {
                var g = (ParamGroup)_parameter_groups[gi];
                double lr = g.Options.LearningRate ?? throw new ArgumentException(
                    $"{GetType().Name} group {gi}: lr (Options.LearningRate) is null; set it to a number (≥ 0) before step(). No parameter or state was modified.", "lr");
                CheckLearningRate(g, gi, RuleOf(g, gi), lr);
            }

            // 1. Plan: every coefficient and check before anything is modified.
            for (int gi = 0; gi < _parameter_groups.Count; gi++)
            {
                var g = (ParamGroup)_parameter_groups[gi];
                var rule = g.Rule!;
                double lr = g.Options.LearningRate!.Value;
                // Plan is pure: parameters of a group at the same step scalars (the usual case) share one plan.
                bool planned = false;
                StepScalars plannedFor = default;
                StepCoefficients coef = default;
                StepScalars next = default;
                for (int pi = 0; pi < g.Params.Length; pi++)
                {
                    var p = g.Params[pi];
                    if (p.IsInvalid)
                        throw new InvalidOperationException(
                            $"{GetType().Name}: parameter {NameOf(gi, pi)}(group {gi}, index {pi}) was disposed while the optimizer still steps it; no parameter or state was modified. " +
                            "Keep parameters alive as long as their optimizer, or build a new optimizer over the live ones.");
                    var grad = NativeTensors.TryGetGrad(p, out var wrapper);
                    if (grad == IntPtr.Zero) continue;
                    int pending = AddPending(gi, pi, grad, wrapper);
                    if (!NativeTensors.SameShape(p, grad, wrapper)) ThrowShapeMismatch(gi, pi, p, grad, wrapper);
                    var state = (ParameterState)_state[p.Handle];
                    if (!NativeTensors.HasShape(p, state.Shape))
                        throw new ArgumentException(
                            $"{GetType().Name}: {DescribeParameter(gi, pi, p)} was resized in place after its optimizer state (shape [{string.Join(",", state.Shape)}]) was made; " +
                            "no parameter or state was modified. Its moments belong to the old shape: build a new optimizer for the resized parameter.", "parameters");
                    state.EnsureBuffers(rule, g.Options.InitialAccumulator ?? 0);
                    if (!planned || state.Scalars != plannedFor)
                    {
                        (coef, next) = rule.Plan(state.Scalars, lr, g.Options.InitialLearningRate);
                        plannedFor = state.Scalars;
                        planned = true;
                    }
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
            if (_pendingCount > 0) _stepCount++;   // a step where no parameter had a gradient stepped nothing
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

    private void ThrowShapeMismatch(int group, int index, Parameter p, IntPtr grad, Tensor? wrapper)
    {
        var g = wrapper ?? NativeTensors.Wrap(grad);
        string shape = string.Join(",", g.shape);
        if (wrapper is null) { g.Dispose(); _pending[_pendingCount - 1].Grad = IntPtr.Zero; } // the wrapper released the handle
        throw new ArgumentException(
            $"{GetType().Name}: the gradient of {DescribeParameter(group, index, p)} has shape [{shape}], not the parameter's; no parameter or state was modified.", "grad");
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

    private string DescribeParameter(int group, int index, Parameter p) =>
        $"parameter {NameOf(group, index)}(group {group}, index {index}, shape [{string.Join(",", p.shape)}])";

    /// <summary>The parameter's name followed by a space, or "" when its group has no names.</summary>
    private string NameOf(int group, int index) =>
        ((ParamGroup)_parameter_groups[group]).Names is { } names && index < names.Count ? $"'{names[index]}' " : "";

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
