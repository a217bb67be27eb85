"""Posts: drafts, slugs, tags on a post, who may see what, and the post lists."""
