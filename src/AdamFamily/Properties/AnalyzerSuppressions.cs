// Analyzer findings in the library that are deliberate, each with its reason (see .editorconfig for rules off everywhere).
using System.Diagnostics.CodeAnalysis;

[assembly: SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
    Scope = "type", Target = "~T:AdamFamily.Execution.KernelPool",
    Justification = "The pool lives for the whole process (KernelPool.Shared) and its workers wait on its events until exit; disposing the events would break a step running on another thread.")]
