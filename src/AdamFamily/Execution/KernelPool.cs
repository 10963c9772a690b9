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

    private const int Idle = 0, Woken = 1, Running = 2;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly int[] _state; // per worker: Idle, Woken (signalled, not started) or Running
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
        _state = new int[workers];
        _allocated = new long[workers];
        // ManualResetEventSlim creates its lock object the first time a Wait has to block: do that now,
        // so the first step that waits for a worker does not allocate (24 bytes, once).
        _done.Wait(1);
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

    /// <summary>
    /// Runs every chunk of <paramref name="batch"/> on up to <paramref name="threads"/> threads (the caller
    /// included) and returns when all are done. A worker that has not started by the time the caller has
    /// run out of chunks is called off rather than waited for, so a busy machine (a worker not scheduled
    /// promptly) costs at most the single-threaded time.
    /// </summary>
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
            for (int w = 0; w < workers; w++)
            {
                Volatile.Write(ref _state[w], Woken); // publishes the batch fields above
                _start[w].Set();
            }
            try { Work(batch); }
            catch (Exception e) { RecordError(e); }
            // Every chunk is claimed now. Call off the workers that have not started; wait for the others.
            // Whoever takes _active to zero sets _done, and only _done releases the caller: a worker's
            // Set can then never land in the next batch.
            for (int w = 0; w < workers; w++)
                if (Interlocked.CompareExchange(ref _state[w], Idle, Woken) == Woken && Interlocked.Decrement(ref _active) == 0)
                    _done.Set();
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
            // Take the wake-up unless the caller has called it off (then wait for the next one).
            if (Interlocked.CompareExchange(ref _state[id], Running, Woken) != Woken) continue;
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { Work(_batch!); }
            catch (Exception e) { RecordError(e); }
            Volatile.Write(ref _allocated[id], _allocated[id] + GC.GetAllocatedBytesForCurrentThread() - before);
            Volatile.Write(ref _state[id], Idle);
            if (Interlocked.Decrement(ref _active) == 0) _done.Set();
        }
    }
}
