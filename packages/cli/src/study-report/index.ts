/** The study report (rendering) and the study check, for the `study report` command. */
export {
  ablationTable,
  comparisonTable,
  medianIqr,
  pText,
  STUDY_METRIC_LABELS,
  studyReport,
  variantTable,
  writeStudyReport,
  type StudyReportOptions,
} from './report.js';
export {
  checkStudy,
  compareStudies,
  DEFAULT_STUDY_CHECK_METRICS,
  STUDY_CHECK_SCHEMA,
  studyCheckTable,
  studyCheckVerdict,
  type StudyCheckOptions,
  type StudyCheckReport,
  type StudyCheckRow,
  type StudyCheckRun,
} from './check.js';
