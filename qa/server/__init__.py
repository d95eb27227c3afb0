"""What a shared server keeps beside its index: API keys, answer feedback and uploaded documents."""
