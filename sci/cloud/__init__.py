"""Cloud providers: fetching exports from their storage, and the coefficients used to estimate usage."""
