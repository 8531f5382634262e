namespace LinuxNetns.Threads;

/// <summary>
/// Library code that runs again and again on the home thread (the guards' sparks and kicks), one caller at a time: a
/// caller that finds it under way goes on, since another caller's run serves it too. One work item, reset before each
/// use, so that the caller, who may be switched, allocates nothing.
/// </summary>
internal sealed class HomeThreadChore(Action action)
{
    private Item? _item = new(action);

    /// <summary>Runs the chore on the home thread (directly when called there) and waits, unless it is under way.</summary>
    public void Run()
    {
        if (HomeThread.IsCurrentThread)
        {
            action();
            return;
        }
        Item? item = Interlocked.Exchange(ref _item, null);
        if (item is null) return;
        try
        {
            item.Reset();
            HomeThread.Execute(item);
        }
        finally
        {
            Volatile.Write(ref _item, item);
        }
    }

    private sealed class Item(Action action) : WorkItem
    {
        public override bool KeepsNamespaces => true;

        public void Reset()
        {
            Completed = false;
            Error = null;
            PoisonsThread = false;
        }

        protected override void Run() => action();
    }
}
