using AdamFamily.Rules;
using static TorchSharp.torch;

namespace AdamFamily.Execution;

/// <summary>One parameter's fused step: its data pointers, length, dtype, coefficients and estimator.</summary>
internal unsafe struct KernelJob
{
    public void* X, G, M, V, VMax;
    /// <summary>int8 state: the per-block float32 scales of m, v and v_max.</summary>
    public float* MScale, VScale, VMaxScale;
    public long Length;
    /// <summary>A coarser unit chunk cuts inside this job must respect (a quantisation block for low-precision state); 0 = the batch's <see cref="KernelBatch.Granule"/>.</summary>
    public long Granule;
    /// <summary>How m, v, v_max are stored.</summary>
    public StatePrecision Precision;
    /// <summary>The key of this step's stochastic-rounding bits (<see cref="StateCodec.StepKey"/>).</summary>
    public uint RoundingKey;
    public StepCoefficients Coefficients;
    public SecondMoment? Estimator;
    public bool IsDouble;
}

/// <summary>
/// Every kernel-eligible parameter of one optimizer step, executed as one parallel batch on the
/// <see cref="KernelPool"/>. The jobs are cut into chunks of about <see cref="ChunkBytes"/> bytes of
/// gradient: a large tensor is split into several chunks, small tensors are packed together into one.
/// Cuts inside a tensor fall on multiples of <see cref="Granule"/> elements from its start (a multiple of
/// every SIMD width), so only a tensor's end takes the kernel's scalar tail; results are bit-identical
/// whatever the thread count, because the step is element-wise.
/// <para>
/// The arrays grow when a step has more jobs than any before (in practice: the first step) and are reused
/// afterwards, so a steady-state step allocates no managed memory. The optimizer owns one batch.
/// </para>
/// </summary>
internal sealed unsafe class KernelBatch : IParallelBatch
{
    /// <summary>Target gradient bytes per chunk: big enough to amortise claiming a chunk, small enough to balance 2–64 threads.</summary>
    public const long ChunkBytes = 256 * 1024;

    /// <summary>Chunk cuts inside a tensor are multiples of this many elements (≥ any Vector&lt;T&gt;.Count).</summary>
    public const long Granule = 64;

    private struct Segment
    {
        public int Job;
        public long Start, End;
    }

    private KernelJob[] _jobs = new KernelJob[16];
    private int _jobCount;
    private Segment[] _segments = new Segment[32];
    private int _segmentCount;
    private int[] _chunkStart = new int[33]; // chunk i = segments [_chunkStart[i], _chunkStart[i + 1])
    private int _chunkCount;
    private int _anyNonFinite;
    private bool _checking;
    private long _elements;

    public int JobCount => _jobCount;
    public int ChunkCount => _chunkCount;
    /// <summary>Elements in all jobs of the batch.</summary>
    public long Elements => _elements;
    public ref KernelJob this[int i] => ref _jobs[i];

    public void Clear()
    {
        // Drop references (estimators are static singletons, but keep the array free of stale data).
        for (int i = 0; i < _jobCount; i++) _jobs[i] = default;
        _jobCount = 0;
        _segmentCount = 0;
        _chunkCount = 0;
        _elements = 0;
    }

    public void Add(in KernelJob job)
    {
        if (_jobCount == _jobs.Length)
        {
            Array.Resize(ref _jobs, _jobs.Length * 2);
        }
        _jobs[_jobCount++] = job;
        _elements += job.Length;
    }

    /// <summary>Cuts the jobs into chunks (call after the last <see cref="Add"/>).</summary>
    public void Partition()
    {
        _segmentCount = 0;
        _chunkCount = 0;
        long inChunk = 0;
        bool open = false;
        for (int j = 0; j < _jobCount; j++)
        {
            long len = _jobs[j].Length;
            long target = ChunkBytes / (_jobs[j].IsDouble ? sizeof(double) : sizeof(float));
            long s = 0;
            while (s < len)
            {
                if (!open) { StartChunk(); open = true; inChunk = 0; }
                long take = Math.Min(len - s, target - inChunk);
                long granule = Math.Max(Granule, _jobs[j].Granule);
                if (s + take < len) take = take / granule * granule; // cut inside a tensor only on a granule (a quantisation block for low-precision state)
                if (take <= 0) { open = false; continue; }
                AddSegment(j, s, s + take);
                s += take;
                inChunk += take;
                if (inChunk >= target) open = false;
            }
        }
        EnsureChunks(_chunkCount + 1);
        _chunkStart[_chunkCount] = _segmentCount;
    }

    private void StartChunk()
    {
        EnsureChunks(_chunkCount + 2);
        _chunkStart[_chunkCount++] = _segmentCount;
    }

    private void EnsureChunks(int n)
    {
        if (_chunkStart.Length < n) Array.Resize(ref _chunkStart, Math.Max(n, _chunkStart.Length * 2));
    }

    private void AddSegment(int job, long start, long end)
    {
        if (_segmentCount == _segments.Length) Array.Resize(ref _segments, _segments.Length * 2);
        _segments[_segmentCount++] = new Segment { Job = job, Start = start, End = end };
    }

    /// <summary>
    /// Scans every gradient for NaN/±∞ (a read-only pass over g, in parallel, stopping at the first find)
    /// and returns the index of the first job whose gradient is not finite, or −1.
    /// </summary>
    public int FindNonFinite(KernelPool? pool, int threads)
    {
        _anyNonFinite = 0;
        _checking = true;
        try { Execute(pool, threads); }
        finally { _checking = false; }
        if (_anyNonFinite == 0) return -1;
        // Error path: threads stop at the first find, so rescan in job order for a deterministic answer.
        for (int j = 0; j < _jobCount; j++)
        {
            ref var job = ref _jobs[j];
            bool finite = true;
            for (long s = 0; s < job.Length && finite; s += int.MaxValue / 2)
            {
                int n = (int)Math.Min(job.Length - s, int.MaxValue / 2);
                finite = job.IsDouble
                    ? NonFinite.AllFinite(new ReadOnlySpan<double>((double*)job.G + s, n))
                    : NonFinite.AllFinite(new ReadOnlySpan<float>((float*)job.G + s, n));
            }
            if (!finite) return j;
        }
        return -1;
    }

    /// <summary>Applies every job's step.</summary>
    public void Apply(KernelPool? pool, int threads) => Execute(pool, threads);

    private void Execute(KernelPool? pool, int threads)
    {
        if (pool is null || threads <= 1 || _chunkCount <= 1)
            for (int i = 0; i < _chunkCount; i++) RunChunk(i);
        else
            pool.Run(this, threads);
    }

    public void RunChunk(int index)
    {
        // The apply pass walks the chunks in the opposite order to the check pass: the gradients checked
        // last are then still in the last-level cache when the update reads them (for a model whose
        // gradients fit in cache, the check costs almost no memory traffic).
        if (!_checking) index = _chunkCount - 1 - index;
        int end = _chunkStart[index + 1];
        for (int k = _chunkStart[index]; k < end; k++)
        {
            ref var seg = ref _segments[k];
            ref var job = ref _jobs[seg.Job];
            if (!_checking)
            {
                FusedCpuKernel.Run(ref job, seg.Start, seg.End);
                continue;
            }
            if (Volatile.Read(ref _anyNonFinite) != 0) return;
            bool finite = job.IsDouble
                ? NonFinite.AllFinite(new ReadOnlySpan<double>((double*)job.G + seg.Start, (int)(seg.End - seg.Start)))
                : NonFinite.AllFinite(new ReadOnlySpan<float>((float*)job.G + seg.Start, (int)(seg.End - seg.Start)));
            if (!finite) Volatile.Write(ref _anyNonFinite, 1);
        }
    }
}
