using BenchmarkDotNet.Attributes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Benchmarks;

/// <summary>
/// One optimizer step over a single float32 tensor of 1M parameters: our fused AdamW and AdamD (on 1 and
/// on all cores) against TorchSharp's built-in AdamW. MemoryDiagnoser shows the managed allocation per step
/// (0 B for ours after the first step). <c>afm bench</c> covers more sizes and the bandwidth limit.
/// </summary>
[MemoryDiagnoser]
public class StepBenchmarks
{
    private Parameter _x = null!;
    private AfmdwOptimizer _adamW = null!, _adamD = null!;
    private torch.optim.Optimizer _torchAdamW = null!;

    [Params(1_000_000)]
    public int Parameters { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        manual_seed(1);
        _x = new Parameter(randn(Parameters));
        using (var g = randn(Parameters).mul_(0.01)) _x.grad = g;
        _adamW = new AdamW(new[] { _x }) { KernelThreads = Threads };
        _adamD = new AdamD(new[] { _x }) { KernelThreads = Threads };
        _torchAdamW = torch.optim.AdamW(new[] { _x }, lr: 1e-3, weight_decay: 1e-2);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _adamW.Dispose();
        _adamD.Dispose();
        _torchAdamW.Dispose();
        _x.Dispose();
    }

    [Benchmark(Description = "AdamFamily AdamW")]
    public void OurAdamW() => _adamW.step();

    [Benchmark(Description = "AdamFamily AdamD")]
    public void OurAdamD() => _adamD.step();

    [Benchmark(Baseline = true, Description = "TorchSharp AdamW")]
    public void TorchSharpAdamW() => _torchAdamW.step();
}
