using AdamFamily.Execution;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

/// <summary>
/// The fused CPU kernel (multi-threaded, batched) against the tensor-op reference path: the same presets and
/// options, the same gradients, several steps, compared parameter by parameter and buffer by buffer.
/// </summary>
public class KernelTests
{
    // Sizes that are not multiples of any SIMD width, and one large enough to be split into several chunks
    // (a chunk is 64Ki float32 or 32Ki float64 elements), so it runs on both threads.
    private static readonly long[][] MixedShapes = { new[] { 1L }, new[] { 7L }, new[] { 3L, 11L }, new[] { 1000L }, new[] { 70_001L } };

    // Many small tensors (a network's biases and norms), packed several to a chunk.
    private static long[][] ManySmallShapes()
    {
        var rng = new Random(11);
        return Enumerable.Range(0, 70).Select(i => i % 5 == 0 ? new long[] { rng.Next(1, 40), rng.Next(1, 40) } : new long[] { rng.Next(1, 700) }).ToArray();
    }

    // Learning rates per step: changes exercise the lr-tied schedule and re-planning.
    private static readonly double[] Lrs = { 1e-3, 1e-3, 2e-3, 2e-3, 5e-4, 5e-4, 1e-3, 1e-3 };

    public static IEnumerable<object[]> PresetCases() => Presets.All.Select(p => new object[] { p.Name, "" });

    public static IEnumerable<object[]> OptionCases() => new[]
    {
        ("afmdw", "estimator=adam"), ("afmdw", "estimator=amsgrad"), ("afmdw", "estimator=yogi,initial_accumulator=1e-6"),
        ("afmdw", "estimator=adabelief"), ("afmdw", "estimator=infinity"),
        ("afmdw", "estimator=amsgrad,eps_mode=outside"), ("afmdw", "estimator=yogi,eps_mode=outside,eps=1e-3"), ("afmdw", "estimator=adabelief,eps_mode=outside"),
        ("afmdw", "nesterov=true"), ("afmdw", "nesterov=true,bias_correction=false"), ("afmdw", "nesterov=true,eps_mode=outside,decay=decoupled"),
        ("afmdw", "eps_mode=inside"), ("afmdw", "eps_mode=outside"),
        ("afmdw", "decay=preconditioned"), ("afmdw", "decay=decoupled,weight_decay=1e-2"), ("afmdw", "decay=l2,weight_decay=1e-2"), ("afmdw", "decay=none"),
        ("afmdw", "maximize=true"), ("afmdw", "maximize=true,decay=l2,weight_decay=1e-2"),
        ("afmdw", "bias_correction=false"), ("afmdw", "bias_correction=false,estimator=amsgrad"),
        ("afmdw", "theta_schedule=diminishing T=3 p=0.7,tau_schedule=diminishing T=2 p=0.5"),
        ("afmdw", "theta_schedule=lr-tied,tau_schedule=lr-tied"),
        ("adam", "amsgrad=true,weight_decay=1e-2"), ("adam", "maximize=true,weight_decay=1e-2"), ("adam", "decoupled_weight_decay=true,weight_decay=1e-2"),
        ("adamw", "amsgrad=true"), ("nadam", "decoupled_weight_decay=true,weight_decay=1e-2"), ("radam", "decoupled_weight_decay=true,weight_decay=1e-2"),
        ("adamax", "weight_decay=1e-2"),
        ("sgd", "momentum=0.9"), ("sgd", "momentum=0.9,nesterov=true"), ("sgd", "momentum=0.9,dampening=0.1,weight_decay=1e-2"),
        ("sgd", "weight_decay=1e-2,maximize=true"), ("sgd", "momentum=0.9,nesterov=true,maximize=true"),
    }.Select(c => new object[] { c.Item1, c.Item2 });

    [Theory]
    [MemberData(nameof(PresetCases))]
    [MemberData(nameof(OptionCases))]
    public void Float64_KernelMatchesTensorOps(string preset, string options)
        => CompareWithTensorOps(preset, options, ScalarType.Float64, MixedShapes, 1e-12);

    [Theory]
    [MemberData(nameof(PresetCases))]
    [MemberData(nameof(OptionCases))]
    public void Float32_KernelMatchesTensorOps(string preset, string options)
        => CompareWithTensorOps(preset, options, ScalarType.Float32, MixedShapes, 1e-6);

    [Theory]
    [InlineData("adamd", "")]
    [InlineData("adamw", "")]
    [InlineData("amsgradd", "")]
    [InlineData("nadam", "")]
    [InlineData("sgd", "momentum=0.9,nesterov=true")]
    public void ManySmallTensors_KernelMatchesTensorOps(string preset, string options)
    {
        CompareWithTensorOps(preset, options, ScalarType.Float32, ManySmallShapes(), 1e-6);
        CompareWithTensorOps(preset, options, ScalarType.Float64, ManySmallShapes(), 1e-12);
    }

    /// <summary>Thread count does not change a single bit: 1 and 2 threads (and the pool's chunking) give identical results.</summary>
    [Theory]
    [InlineData("adamd", "float32")]
    [InlineData("yogid", "float64")]
    [InlineData("sgd", "float32")]
    public void ResultsAreBitIdenticalAcrossThreadCounts(string preset, string dtype)
    {
        var type = dtype == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        var shapes = MixedShapes.Concat(ManySmallShapes()).Append(new[] { 300_001L }).ToArray();
        using var scope = NewDisposeScope();
        var one = Trajectory(preset, "", type, shapes, ExecutionPath.Auto, threads: 1, steps: 4);
        var two = Trajectory(preset, "", type, shapes, ExecutionPath.Auto, threads: 2, steps: 4);
        foreach (var t in one.Concat(two)) t.MoveToOuterDisposeScope();
        for (int i = 0; i < one.Length; i++) AssertSame(one[i], two[i], $"{Kind(i)}, 1 vs 2 threads");
    }

    /// <summary>A non-contiguous parameter takes the tensor-op path inside the same step as kernel parameters.</summary>
    [Fact]
    public void MixedPaths_InOneStep_MatchTensorOps()
    {
        using var scope = NewDisposeScope();
        Parameter[] Make()
        {
            var gen = new Generator(5);
            return new[]
            {
                new Parameter(RandomTensor(gen, new[] { 300L, 400L }, ScalarType.Float32)),
                new Parameter(RandomTensor(gen, new[] { 50L, 70L }, ScalarType.Float32).t()), // a transposed view: not contiguous
                new Parameter(RandomTensor(gen, new[] { 33L }, ScalarType.Float32)),
            };
        }
        var a = Make();
        var b = Make();
        Assert.False(a[1].is_contiguous());
        using var optA = Optimizers.Create("adamd", a, "");
        using var optB = Optimizers.Create("adamd", b, "");
        optB.ExecutionPath = ExecutionPath.TensorOps;
        var grng = new Generator(9);
        for (int k = 0; k < 3; k++)
        {
            for (int i = 0; i < a.Length; i++)
            {
                var g = RandomTensor(grng, a[i].shape, ScalarType.Float32);
                a[i].grad = g; b[i].grad = g;
            }
            optA.step(); optB.step();
            Assert.Equal(2, optA.LastKernelParameters);
            Assert.Equal(1, optA.LastTensorOpParameters);
        }
        for (int i = 0; i < a.Length; i++) AssertClose(a[i].detach().to_type(ScalarType.Float64), b[i].detach().to_type(ScalarType.Float64), 1e-6, $"parameter {i}");
    }

    [Theory]
    [InlineData(NonFinitePolicy.Throw)]
    [InlineData(NonFinitePolicy.Skip)]
    public void NonFiniteGradient_InALateChunk_ModifiesNothing(NonFinitePolicy policy)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(3);
        var ps = new[] { new Parameter(RandomTensor(gen, new[] { 1000L }, ScalarType.Float32)), new Parameter(RandomTensor(gen, new[] { 400_000L }, ScalarType.Float32)) };
        using var opt = Optimizers.Create("adamd", new[] { new AfmdwOptimizer.ParamGroup(new[] { ("bias", ps[0]), ("weight", ps[1]) }) }, Array.Empty<KeyValuePair<string, string>>());
        opt.KernelThreads = 2;
        opt.NonFinitePolicy = policy;
        foreach (var p in ps) p.grad = RandomTensor(gen, p.shape, ScalarType.Float32);
        opt.step();
        var before = ps.Select(p => p.detach().clone()).ToArray();
        var m = opt.StateOf(ps[1]).M!.clone();
        var v = opt.StateOf(ps[1]).V!.clone();
        var grad = RandomTensor(gen, ps[1].shape, ScalarType.Float32);
        grad[399_990] = tensor(float.NaN);
        ps[1].grad = grad;
        if (policy == NonFinitePolicy.Throw)
        {
            var e = Assert.Throws<NonFiniteGradientException>(() => opt.step());
            Assert.Contains("'weight'", e.Message);
        }
        else
        {
            opt.step();
            Assert.Equal(1, opt.SkippedSteps);
        }
        for (int i = 0; i < ps.Length; i++) AssertSame(before[i], ps[i].detach(), $"parameter {i} after the refused step");
        AssertSame(m, opt.StateOf(ps[1]).M!, "m after the refused step");
        AssertSame(v, opt.StateOf(ps[1]).V!, "v after the refused step");
        Assert.Equal(1, opt.StateOf(ps[1]).Step);
        ps[1].grad = RandomTensor(gen, ps[1].shape, ScalarType.Float32);
        opt.step();
        Assert.Equal(2, opt.StateOf(ps[1]).Step);
    }

    /// <summary>Without LibTorchSharp's exports the step reads gradients through the public API: same kernel, same bits.</summary>
    [Fact]
    public void PublicApiFallback_GivesTheSameBits()
    {
        using var scope = NewDisposeScope();
        var shapes = MixedShapes.Concat(ManySmallShapes()).ToArray();
        var native = Trajectory("adamd", "", ScalarType.Float32, shapes, ExecutionPath.Auto, threads: 2, steps: 3);
        Tensor[] fallback;
        NativeTensors.ForceFallbackOnThisThread = true;
        try { fallback = Trajectory("adamd", "", ScalarType.Float32, shapes, ExecutionPath.Auto, threads: 2, steps: 3); }
        finally { NativeTensors.ForceFallbackOnThisThread = false; }
        foreach (var t in native.Concat(fallback)) t.MoveToOuterDisposeScope();
        for (int i = 0; i < native.Length; i++) AssertSame(native[i], fallback[i], $"{Kind(i)}, native vs public-API gradients");
    }

    /// <summary>The pool runs every chunk of every batch exactly once: many batches of random size, from two callers at once, on an oversubscribed pool.</summary>
    [Fact]
    public async Task KernelPool_RunsEveryChunkExactlyOnce()
    {
        var pool = new KernelPool(3); // more workers than cores: wake-ups get called off
        void Caller(int seed)
        {
            var rng = new Random(seed);
            var batch = new CountingBatch();
            for (int i = 0; i < 1500; i++)
            {
                batch.Reset(rng.Next(0, 40));
                pool.Run(batch, rng.Next(1, 5));
                for (int c = 0; c < batch.ChunkCount; c++)
                    Assert.True(batch.Runs[c] == 1, $"batch {i}: chunk {c} ran {batch.Runs[c]} times");
            }
        }
        var other = Task.Run(() => Caller(2));
        Caller(1);
        await other;
    }

    private sealed class CountingBatch : IParallelBatch
    {
        public int[] Runs = new int[64];
        public int ChunkCount { get; private set; }
        public void Reset(int chunks) { ChunkCount = chunks; Array.Clear(Runs); }
        public void RunChunk(int index)
        {
            Interlocked.Increment(ref Runs[index]);
            Thread.SpinWait(50);
        }
    }

    [Fact]
    public void NativeGradientAccess_IsAvailable()
        => Assert.True(NativeTensors.Available, $"LibTorchSharp exports unavailable: {NativeTensors.UnavailableReason}");

    // ---- helpers ------------------------------------------------------------------------------------------

    private static void CompareWithTensorOps(string preset, string options, ScalarType dtype, long[][] shapes, double rtol)
    {
        using var scope = NewDisposeScope();
        var kernel = Trajectory(preset, options, dtype, shapes, ExecutionPath.Auto, threads: 2, steps: Lrs.Length);
        var reference = Trajectory(preset, options, dtype, shapes, ExecutionPath.TensorOps, threads: 1, steps: Lrs.Length);
        foreach (var t in kernel.Concat(reference)) t.MoveToOuterDisposeScope();
        for (int i = 0; i < kernel.Length; i++)
            AssertClose(kernel[i], reference[i], rtol, $"{preset} [{options}] {dtype}: {Kind(i)}");
    }

    /// <summary>Runs the steps and returns the parameters and state buffers afterwards (float64, detached from any scope).</summary>
    private static Tensor[] Trajectory(string preset, string options, ScalarType dtype, long[][] shapes, ExecutionPath path, int threads, int steps)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(1234);
        var ps = shapes.Select(s => new Parameter(RandomTensor(gen, s, dtype))).ToArray();
        var spec = Optimizers.ParseSpec(options).Append(new("stability_check", "false"));
        using var opt = Optimizers.Create(preset, ps, spec);
        opt.ExecutionPath = path;
        opt.KernelThreads = threads;
        for (int k = 0; k < steps; k++)
        {
            opt.Groups[0].LearningRate = Lrs[k % Lrs.Length];
            foreach (var p in ps) p.grad = RandomTensor(gen, p.shape, dtype, zeros: 0.02);
            opt.step();
            if (path == ExecutionPath.Auto) Assert.Equal(ps.Length, opt.LastKernelParameters);
            else Assert.Equal(0, opt.LastKernelParameters);
        }
        // One float64 vector per buffer kind (x, m, v, v_max), all parameters concatenated: errors are judged
        // on the scale of that buffer over the whole model, not of a single (possibly one-element) tensor.
        var kinds = new List<Tensor>[4];
        for (int i = 0; i < 4; i++) kinds[i] = new List<Tensor>();
        foreach (var p in ps)
        {
            var st = opt.StateOf(p);
            var buffers = new[] { p.detach(), st.M, st.V, st.VMax };
            for (int i = 0; i < 4; i++)
                if (buffers[i] is { } t) kinds[i].Add(t.flatten().to_type(ScalarType.Float64));
        }
        return kinds.Select(k => (k.Count > 0 ? cat(k, 0) : empty(0, ScalarType.Float64)).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>Normal values (σ 0.5) from a seeded generator, with a fraction of exact zeros.</summary>
    private static Tensor RandomTensor(Generator gen, long[] shape, ScalarType dtype, double zeros = 0)
    {
        var t = randn(shape, dtype: ScalarType.Float64, generator: gen).mul_(0.5);
        if (zeros > 0) t.mul_(rand(shape, dtype: ScalarType.Float64, generator: gen).ge(zeros));
        return t.to_type(dtype);
    }

    /// <summary>
    /// Max-norm relative error: max|a − b| ≤ rtol·max|b|. (Element-wise relative error is meaningless for
    /// entries that pass near zero by cancellation, e.g. m = β₁m + (1 − β₁)g; one rounding step of the
    /// cancelled terms is then a large fraction of the tiny result on either path.)
    /// </summary>
    private static void AssertClose(Tensor a, Tensor b, double rtol, string what)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(b.shape, a.shape);
        Assert.False(a.isnan().any().item<bool>() || b.isnan().any().item<bool>(), $"{what}: NaN");
        if (b.numel() == 0) return;
        var diff = (a - b).abs().flatten();
        double worst = diff.max().item<double>();
        double max = b.abs().max().item<double>();
        if (worst > rtol * max)
        {
            long at = diff.argmax().item<long>();
            Assert.Fail($"{what}: max |kernel − reference| = {worst:G3} > {rtol:G3}·max|reference| = {rtol * max:G3}, at element {at} " +
                        $"({a.flatten()[at].item<double>():R} vs {b.flatten()[at].item<double>():R})");
        }
    }

    private static string Kind(int i) => i switch { 0 => "x", 1 => "m", 2 => "v", _ => "v_max" };

    private static void AssertSame(Tensor a, Tensor b, string what)
    {
        Assert.True(a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype, $"{what}: shape or dtype differs");
        using var ca = a.contiguous();
        using var cb = b.contiguous();
        Assert.True(ca.bytes.SequenceEqual(cb.bytes), $"{what}: not bit-identical");
    }
}

/// <summary>Steady-state kernel steps allocate no managed memory, on the calling thread or the pool's workers.</summary>
[Collection(nameof(AllocationCollection))]
public class KernelAllocationTests
{
    [Theory]
    [InlineData("adamw", "", "throw")]
    [InlineData("adamd", "", "throw")]
    [InlineData("adamd", "", "propagate")]
    [InlineData("amsgradd", "", "skip")]
    [InlineData("nadam", "", "throw")]
    [InlineData("sgd", "momentum=0.9", "throw")]
    [InlineData("adamw", "state_precision=bfloat16", "throw")]
    [InlineData("amsgradd", "state_precision=int8", "propagate")]
    public void SteadyStateKernelStep_AllocatesNothing(string preset, string options, string policy)
    {
        using var scope = NewDisposeScope();
        // Many small tensors plus two large ones, so the step batches and uses the worker pool.
        var shapes = Enumerable.Range(0, 60).Select(i => new long[] { 1 + i * 37 % 500 }).Append(new long[] { 300, 700 }).Append(new long[] { 150_001 });
        var ps = shapes.Select(s => new Parameter(randn(s))).ToArray();
        foreach (var p in ps) p.grad = randn(p.shape).mul_(0.01);
        var spec = Optimizers.ParseSpec(options).Append(new("nonfinite", policy));
        using var opt = Optimizers.Create(preset, ps, spec);
        opt.KernelThreads = 2;
        for (int i = 0; i < 5; i++) opt.step(); // first steps size the reused arrays and JIT the kernels

        const int steps = 20;
        long thread0 = GC.GetAllocatedBytesForCurrentThread();
        long workers0 = KernelPool.Shared.WorkerAllocatedBytes;
        for (int i = 0; i < steps; i++) opt.step();
        long thread = GC.GetAllocatedBytesForCurrentThread() - thread0;
        long workers = KernelPool.Shared.WorkerAllocatedBytes - workers0;

        Assert.Equal(ps.Length, opt.LastKernelParameters);
        Assert.True(thread == 0, $"{preset}: {thread} managed bytes allocated on the calling thread over {steps} steps");
        Assert.True(workers == 0, $"{preset}: {workers} managed bytes allocated on the kernel workers over {steps} steps");
    }
}

/// <summary>Allocation measurements run alone (GC counters are per thread, but keep them away from parallel test noise).</summary>
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public class AllocationCollection { }
