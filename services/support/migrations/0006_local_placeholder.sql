SELECT 1; -- local placeholder for another helper's 0006 (NOT committed)
