using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AdamFamily.Execution;

namespace AdamFamily.Lab.Benchmarks;

/// <summary>
/// The memory-bandwidth reference for benchmarks: a SIMD pass with the memory traffic of an Adam-like step
/// and almost no arithmetic — read four arrays of n elements (x, g, m, v), write three of them back in
/// place (x, m, v): 7·n elements moved. It runs on the same <see cref="KernelPool"/> with the same chunking
/// as the fused step, so "fraction of this limit" compares like with like. Owns its native buffers.
/// Measurement only: it lives in the lab, not in the shipped library (it reaches the pool through the library's
/// internals-visible-to seam).
/// </summary>
internal sealed unsafe class BandwidthProbe : IParallelBatch, IDisposable
{
    /// <summary>Elements moved per element of n: 4 reads + 3 writes.</summary>
    public const int Streams = 7;

    private readonly long _n;
    private readonly bool _double;
    private readonly long _chunk;
    private void* _x, _g, _m, _v;

    public BandwidthProbe(long n, bool isDouble = false)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "the probe needs at least one element");
        _n = n;
        _double = isDouble;
        int size = isDouble ? sizeof(double) : sizeof(float);
        _chunk = KernelBatch.ChunkBytes / size;
        nuint bytes = (nuint)(n * size);
        _x = NativeMemory.AlignedAlloc(bytes, 64);
        _g = NativeMemory.AlignedAlloc(bytes, 64);
        _m = NativeMemory.AlignedAlloc(bytes, 64);
        _v = NativeMemory.AlignedAlloc(bytes, 64);
        // Touch every page with finite values (also keeps denormals out of the loop).
        if (isDouble) { Fill((double*)_x, 1.0); Fill((double*)_g, 0.5); Fill((double*)_m, 0.25); Fill((double*)_v, 0.125); }
        else { Fill((float*)_x, 1f); Fill((float*)_g, 0.5f); Fill((float*)_m, 0.25f); Fill((float*)_v, 0.125f); }
    }

    private void Fill<T>(T* p, T value) where T : unmanaged
    {
        for (long i = 0; i < _n; i++) p[i] = value;
    }

    /// <summary>Bytes one pass moves (7·n·element size).</summary>
    public long BytesPerPass => Streams * _n * (_double ? sizeof(double) : sizeof(float));

    public int ChunkCount => (int)((_n + _chunk - 1) / _chunk);

    /// <summary>One pass on up to <paramref name="threads"/> threads (the caller included).</summary>
    public void Run(int threads)
    {
        if (threads <= 1 || ChunkCount <= 1)
            for (int i = 0; i < ChunkCount; i++) RunChunk(i);
        else KernelPool.Shared.Run(this, threads);
    }

    public void RunChunk(int index)
    {
        long start = index * _chunk, end = Math.Min(_n, start + _chunk);
        if (_double) Pass((double*)_x, (double*)_g, (double*)_m, (double*)_v, start, end);
        else Pass((float*)_x, (float*)_g, (float*)_m, (float*)_v, start, end);
    }

    // m ← a·m + b·g, v ← a·v + b·g, x ← x − c·(m + v): the step's access pattern with a few flops.
    // The coefficients keep every value bounded, so repeated passes stay finite and normal.
    private static void Pass<T>(T* x, T* g, T* m, T* v, long start, long end) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var a = new Vector<T>(T.CreateChecked(0.5)); var b = new Vector<T>(T.CreateChecked(0.25)); var c = new Vector<T>(T.CreateChecked(1e-3));
        int w = Vector<T>.Count;
        long i = start;
        for (; i + w <= end; i += w)
        {
            var gi = Unsafe.ReadUnaligned<Vector<T>>(g + i);
            var mi = a * Unsafe.ReadUnaligned<Vector<T>>(m + i) + b * gi;
            var vi = a * Unsafe.ReadUnaligned<Vector<T>>(v + i) + b * gi;
            Unsafe.WriteUnaligned(m + i, mi);
            Unsafe.WriteUnaligned(v + i, vi);
            Unsafe.WriteUnaligned(x + i, Unsafe.ReadUnaligned<Vector<T>>(x + i) - c * (mi + vi));
        }
        for (; i < end; i++)
        {
            m[i] = a[0] * m[i] + b[0] * g[i];
            v[i] = a[0] * v[i] + b[0] * g[i];
            x[i] -= c[0] * (m[i] + v[i]);
        }
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_x); NativeMemory.AlignedFree(_g); NativeMemory.AlignedFree(_m); NativeMemory.AlignedFree(_v);
        _x = _g = _m = _v = null;
    }
}
