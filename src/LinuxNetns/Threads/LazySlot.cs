namespace LinuxNetns.Threads;

/// <summary>
/// At most one <typeparamref name="T"/> of a namespace handle (a worker thread, an event loop, a resolver's slot): made
/// on first need, replaced once it has ended, refused once the slot is closed. The one lock-guarded "current one" of
/// <see cref="WorkerSlot"/>, <see cref="NetworkNamespace.RunAsync(Func{Task}, CancellationToken)"/>'s loop and
/// <see cref="NetworkNamespace.CreateHttpMessageHandler"/>'s resolver.
/// </summary>
internal sealed class LazySlot<T> where T : class
{
    private readonly object _lock = new();
    private T? _current;
    private bool _closed;

    /// <summary>The current one, if any (no lock: for a quick look such as "is the caller its thread?").</summary>
    public T? Current => Volatile.Read(ref _current);

    /// <summary>
    /// The current one, or one made by <paramref name="make"/> from <paramref name="state"/> (under the slot's lock)
    /// when there is none or <paramref name="ended"/> says the current one has ended; null once the slot is closed.
    /// The state, not a capturing lambda, so that a use that finds one allocates nothing (Run's hot path).
    /// </summary>
    public T? GetOrMake<TState>(Func<TState, T> make, TState state, Func<T, bool>? ended = null)
    {
        lock (_lock)
        {
            if (_closed) return null;
            if (_current is { } current && ended?.Invoke(current) == true) _current = null;
            return _current ??= make(state);
        }
    }

    /// <summary>Drops <paramref name="ended"/> if it is still the current one: the next use makes another.</summary>
    public void Forget(T ended)
    {
        lock (_lock)
        {
            if (_current == ended) _current = null;
        }
    }

    /// <summary>Refuses further use and returns the current one, for the caller to end.</summary>
    public T? Close()
    {
        lock (_lock)
        {
            _closed = true;
            T? current = _current;
            _current = null;
            return current;
        }
    }
}
