"""The measured scenarios. Each is an async (or in-process) function returning a JSON-able dict."""
