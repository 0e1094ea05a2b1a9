"""The content feed: policies and engines that decide what each person sees."""
