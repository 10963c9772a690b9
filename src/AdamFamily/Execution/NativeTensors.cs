using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Execution;

/// <summary>
/// A handful of LibTorchSharp's exported C functions, called through function pointers so the fused
/// step can read a parameter's gradient and a tensor's layout without creating managed objects.
/// <para>
/// Why: <c>Tensor.grad</c> builds a new managed <see cref="Tensor"/> wrapper (and registers it in the current
/// dispose scope) on every call, which is the one managed allocation per parameter per step that the public
/// API cannot avoid. <c>THSTensor_grad</c> returns a new native <c>torch::Tensor*</c> (a reference to the
/// gradient) or null; it is released with <c>THSTensor_dispose</c>. The other exports read properties of a
/// <c>torch::Tensor*</c> and allocate nothing.
/// </para>
/// <para>
/// Safe fallback: the exports are resolved once, from the library TorchSharp itself loads; if that fails
/// (a future TorchSharp renames them, or a host loads it differently) <see cref="Available"/> is false and
/// callers use the public API instead (<see cref="TryGetGrad"/> then wraps <c>p.grad</c>).
/// </para>
/// </summary>
internal static unsafe class NativeTensors
{
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr> _grad;
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, void> _dispose;
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr> _data;
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, long> _numel;
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, sbyte> _type;
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, int> _deviceType;
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, byte> _isContiguous;
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, long> _ndimension;
    private static readonly delegate* unmanaged[Cdecl]<IntPtr, long, long> _size;

    /// <summary>Whether the native exports were found; when false every method here uses the public TorchSharp API.</summary>
    public static bool Available { get; }

    /// <summary>Why the exports are unavailable (null when they are).</summary>
    public static string? UnavailableReason { get; }

    /// <summary>Test hook: makes this thread use the public-API fallback even though the exports are available.</summary>
    [ThreadStatic] internal static bool ForceFallbackOnThisThread;

    private static bool UseNative => Available && !ForceFallbackOnThisThread;

    static NativeTensors()
    {
        try
        {
            // Make sure TorchSharp has loaded its native backend (it does so on first use of torch).
            _ = torch.get_default_dtype();
            if (!TryLoad(out var lib))
            {
                UnavailableReason = "LibTorchSharp could not be located";
                return;
            }
            _grad = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)NativeLibrary.GetExport(lib, "THSTensor_grad");
            _dispose = (delegate* unmanaged[Cdecl]<IntPtr, void>)NativeLibrary.GetExport(lib, "THSTensor_dispose");
            _data = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)NativeLibrary.GetExport(lib, "THSTensor_data");
            _numel = (delegate* unmanaged[Cdecl]<IntPtr, long>)NativeLibrary.GetExport(lib, "THSTensor_numel");
            _type = (delegate* unmanaged[Cdecl]<IntPtr, sbyte>)NativeLibrary.GetExport(lib, "THSTensor_type");
            _deviceType = (delegate* unmanaged[Cdecl]<IntPtr, int>)NativeLibrary.GetExport(lib, "THSTensor_device_type");
            _isContiguous = (delegate* unmanaged[Cdecl]<IntPtr, byte>)NativeLibrary.GetExport(lib, "THSTensor_is_contiguous");
            _ndimension = (delegate* unmanaged[Cdecl]<IntPtr, long>)NativeLibrary.GetExport(lib, "THSTensor_ndimension");
            _size = (delegate* unmanaged[Cdecl]<IntPtr, long, long>)NativeLibrary.GetExport(lib, "THSTensor_size");
            Available = SelfTest();
            if (!Available) UnavailableReason = "the LibTorchSharp exports did not behave as expected";
        }
        catch (Exception e)
        {
            // Anything unexpected here must not break optimizers: fall back to the public API.
            Available = false;
            UnavailableReason = e.Message;
        }
    }

    private static bool TryLoad(out IntPtr lib)
    {
        // Resolve the way TorchSharp's own [DllImport("LibTorchSharp")] does (its assembly's probing paths);
        // the library is already loaded in the process, so this only returns its handle.
        Assembly torchAssembly = typeof(torch).Assembly;
        if (NativeLibrary.TryLoad("LibTorchSharp", torchAssembly, null, out lib)) return true;
        var dir = Path.GetDirectoryName(torchAssembly.Location);
        if (!string.IsNullOrEmpty(dir))
        {
            foreach (var name in new[] { "libLibTorchSharp.so", "LibTorchSharp.dll", "libLibTorchSharp.dylib" })
            {
                var path = Path.Combine(dir, name);
                if (File.Exists(path) && NativeLibrary.TryLoad(path, out lib)) return true;
            }
        }
        return false;
    }

    // Checks the exports against the public API on a small tensor with a gradient.
    private static bool SelfTest()
    {
        using var scope = NewDisposeScope();
        using var p = new TorchSharp.Modules.Parameter(ones(5, ScalarType.Float32, device: CPU));
        var h = p.Handle;
        if (_grad(h) != IntPtr.Zero) return false;
        torch.CheckForErrors();
        p.grad = full(5, 3.0f, device: CPU);
        var gh = _grad(h);
        if (gh == IntPtr.Zero) return false;
        try
        {
            using var g = p.grad!;
            bool ok = _numel(gh) == 5 && _ndimension(gh) == 1 && _size(gh, 0) == 5 && _type(gh) == (sbyte)ScalarType.Float32 && _deviceType(gh) == (int)DeviceType.CPU
                      && _isContiguous(gh) != 0 && *(float*)_data(gh) == 3.0f
                      && _data(gh) == (IntPtr)System.Runtime.CompilerServices.Unsafe.AsPointer(ref g.bytes.GetPinnableReference());
            p.grad = null;
            return ok;
        }
        finally { _dispose(gh); }
    }

    /// <summary>
    /// The parameter's gradient as a native handle (a new reference: release it with <see cref="Release"/>),
    /// or <see cref="IntPtr.Zero"/> when it has none. <paramref name="wrapper"/> is set only on the fallback
    /// path, where the handle belongs to that managed wrapper (dispose it instead of releasing the handle).
    /// </summary>
    public static IntPtr TryGetGrad(Tensor p, out Tensor? wrapper)
    {
        wrapper = null;
        if (UseNative)
        {
            var h = _grad(p.Handle);
            if (h == IntPtr.Zero) torch.CheckForErrors();
            return h;
        }
        wrapper = p.grad;
        return wrapper?.Handle ?? IntPtr.Zero;
    }

    /// <summary>The address of a tensor's data (IntPtr.Zero when unknown or empty), to tell two wrappers of one tensor apart.</summary>
    public static IntPtr DataPointer(Tensor t)
    {
        if (!UseNative || t.numel() == 0) return IntPtr.Zero;
        var d = _data(t.Handle);
        if (d == IntPtr.Zero) torch.CheckForErrors();
        return d;
    }

    /// <summary>
    /// Whether the gradient (a handle from <see cref="TryGetGrad"/>) has the parameter's shape. Allocates
    /// nothing on the native path (dimension by dimension through the exports).
    /// </summary>
    public static bool SameShape(Tensor parameter, IntPtr grad, Tensor? wrapper)
    {
        if (wrapper is not null || !UseNative) return wrapper is not null && wrapper.shape.SequenceEqual(parameter.shape);
        long rank = _ndimension(parameter.Handle);
        if (_ndimension(grad) != rank) return false;
        for (long d = 0; d < rank; d++)
            if (_size(grad, d) != _size(parameter.Handle, d)) return false;
        return true;
    }

    /// <summary>Whether <paramref name="t"/> has exactly <paramref name="shape"/>. Allocates nothing on the native path.</summary>
    public static bool HasShape(Tensor t, long[] shape)
    {
        if (!UseNative) return t.shape.SequenceEqual(shape);
        if (_ndimension(t.Handle) != shape.Length) return false;
        for (int d = 0; d < shape.Length; d++)
            if (_size(t.Handle, d) != shape[d]) return false;
        return true;
    }

    /// <summary>Releases a handle returned by <see cref="TryGetGrad"/> (or disposes its fallback wrapper).</summary>
    public static void Release(IntPtr handle, Tensor? wrapper)
    {
        if (wrapper is not null) wrapper.Dispose();
        else if (handle != IntPtr.Zero) _dispose(handle);
    }

    /// <summary>A managed tensor owning <paramref name="handle"/> (registered in the current dispose scope), for the tensor-op path.</summary>
    public static Tensor Wrap(IntPtr handle) => Tensor.UnsafeCreateTensor(handle);

    /// <summary>
    /// The data pointer of a tensor if it is a contiguous CPU tensor of the given dtype and element count,
    /// or null when it is anything else (the caller then uses the tensor-op path). Allocates nothing.
    /// <paramref name="wrapper"/>, when set, is the managed tensor the handle belongs to (fallback path).
    /// </summary>
    public static void* DenseCpuData(IntPtr h, Tensor? wrapper, ScalarType dtype, long numel)
    {
        if (wrapper is not null || !UseNative) return wrapper is null ? null : DenseCpuData(wrapper, dtype, numel);
        if (_deviceType(h) != (int)DeviceType.CPU || _type(h) != (sbyte)dtype || _numel(h) != numel || _isContiguous(h) == 0)
        {
            // A native call that failed (e.g. is_contiguous on a sparse tensor) left an error behind: raise it
            // here, as TorchSharp's own property would, rather than let a later TorchSharp call report it.
            torch.CheckForErrors();
            return null;
        }
        var d = _data(h);
        if (d == IntPtr.Zero) torch.CheckForErrors();
        return (void*)d;
    }

    /// <summary>As <see cref="DenseCpuData(IntPtr, Tensor?, ScalarType, long)"/> for a managed tensor.</summary>
    public static void* DenseCpuData(Tensor t, ScalarType dtype, long numel)
    {
        if (UseNative) return DenseCpuData(t.Handle, null, dtype, numel);
        if (t.device_type != DeviceType.CPU || t.dtype != dtype || t.numel() != numel || !t.is_contiguous()) return null;
        if (numel * t.element_size() > int.MaxValue) return null; // Tensor.bytes is a Span: the fallback cannot reach larger tensors
        return System.Runtime.CompilerServices.Unsafe.AsPointer(ref t.bytes.GetPinnableReference());
    }
}
