-- Reserved: topics of follow-ups (issue 13).
SELECT 1;
