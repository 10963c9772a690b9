using System.Runtime.ExceptionServices;

namespace AdamFamily.Execution;

/// <summary>Work the pool can run: a fixed number of independent chunks, each run exactly once by some thread.</summary>
internal interface IParallelBatch
{
    int ChunkCount { get; }
    void RunChunk(int index);
}

/// <summary>
/// A small persistent pool for the fused step: N − 1 dedicated background threads that sleep on an event
/// between batches, plus the calling thread, which takes a share of every batch. Threads claim chunks
/// with one interlocked increment each (dynamic scheduling), so uneven tensors balance themselves.
/// <para>
/// Running a batch allocates no managed memory: the work is an <see cref="IParallelBatch"/> object the
/// caller keeps (its chunks described in preallocated arrays), and the signals are reused
/// <see cref="ManualResetEventSlim"/>s. One batch runs at a time; a caller that finds the pool busy (another
/// optimizer stepping on another thread) runs its batch alone on its own thread, with the same results.
/// </para>
/// </summary>
internal sealed class KernelPool
{
    private static readonly Lazy<KernelPool> SharedPool = new(() => new KernelPool(Math.Min(Environment.ProcessorCount, 64) - 1));

    /// <summary>The process-wide pool (ProcessorCount − 1 workers, created on first use).</summary>
    public static KernelPool Shared => SharedPool.Value;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false);
    private readonly object _gate = new();
    private readonly long[] _allocated;
    private IParallelBatch? _batch;
    private int _next;
    private int _active;
    private ExceptionDispatchInfo? _error;

    public KernelPool(int workers)
    {
        workers = Math.Max(0, workers);
        _threads = new Thread[workers];
        _start = new ManualResetEventSlim[workers];
        _allocated = new long[workers];
        for (int i = 0; i < workers; i++)
        {
            _start[i] = new ManualResetEventSlim(false);
            _threads[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"AdamFamily kernel worker {i + 1}" };
            _threads[i].Start(i);
        }
    }

    /// <summary>The number of background workers (the calling thread is one more).</summary>
    public int WorkerCount => _threads.Length;

    /// <summary>Managed bytes the workers have allocated while running batches, since the pool started (measured on each worker thread).</summary>
    public long WorkerAllocatedBytes
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _allocated.Length; i++) sum += Volatile.Read(ref _allocated[i]);
            return sum;
        }
    }

    /// <summary>Runs every chunk of <paramref name="batch"/> on up to <paramref name="threads"/> threads (the caller included) and returns when all are done.</summary>
    public void Run(IParallelBatch batch, int threads)
    {
        int chunks = batch.ChunkCount;
        if (chunks == 0) return;
        int workers = Math.Min(Math.Min(threads - 1, _threads.Length), chunks - 1);
        if (workers <= 0 || !Monitor.TryEnter(_gate))
        {
            for (int i = 0; i < chunks; i++) batch.RunChunk(i);
            return;
        }
        try
        {
            _batch = batch;
            _next = 0;
            _error = null;
            _active = workers;
            _done.Reset();
            for (int w = 0; w < workers; w++) _start[w].Set();
            try { Work(batch); }
            catch (Exception e) { RecordError(e); }
            _done.Wait();
            _batch = null;
            _error?.Throw();
        }
        finally { Monitor.Exit(_gate); }
    }

    private void Work(IParallelBatch batch)
    {
        int n = batch.ChunkCount;
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < n)
            batch.RunChunk(i);
    }

    private void RecordError(Exception e)
    {
        Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
        Volatile.Write(ref _next, int.MaxValue / 2); // the others stop claiming chunks
    }

    private void WorkerLoop(object? state)
    {
        int id = (int)state!;
        var start = _start[id];
        while (true)
        {
            start.Wait();
            start.Reset();
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { Work(_batch!); }
            catch (Exception e) { RecordError(e); }
            Volatile.Write(ref _allocated[id], _allocated[id] + GC.GetAllocatedBytesForCurrentThread() - before);
            if (Interlocked.Decrement(ref _active) == 0) _done.Set();
        }
    }
}
