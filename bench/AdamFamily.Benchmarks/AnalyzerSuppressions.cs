// Analyzer findings in the benchmarks that are deliberate, each with its reason.
using System.Diagnostics.CodeAnalysis;

[assembly: SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Scope = "type", Target = "~T:AdamFamily.Benchmarks.StepBenchmarks",
    Justification = "BenchmarkDotNet owns the lifetime: the fields are created in [GlobalSetup] and disposed in [GlobalCleanup].")]
